"""ContentModel: cosine of pretrained text vectors, bilingual (Chinese and English)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.models.content import ContentModel
from tailor.types import UserBatch

TEXTS = {
    "cream-zh": "保湿面霜",
    "cream-en": "Hydrating face cream",
    "cream-zh-2": "面霜",
    "serum": "Moisturizing facial serum",
    "shoe-zh": "运动跑鞋",
    "shoe-en": "Running shoes for men",
    "ball": "Official size basketball",
    "cold-lotion": "保湿乳液",  # in the catalogue, never bought
}
SEQUENCES = {
    "u1": ["cream-en", "serum"],
    "u2": ["shoe-en", "ball", "shoe-zh"],
    "u3": ["cream-zh", "cream-zh-2", "cream-en"],
}


@pytest.fixture(scope="module")
def shop() -> Dataset:
    return Dataset.from_sequences(SEQUENCES, TEXTS)


@pytest.fixture(scope="module")
def model(shop: Dataset) -> ContentModel:
    return ContentModel().fit(shop)


def idx(shop: Dataset, *ids: str) -> list[int]:
    return [shop.item_ids.index(i) for i in ids]


def test_chinese_cream_is_near_creams_and_far_from_shoes(
    model: ContentModel, shop: Dataset
) -> None:
    [cream] = idx(shop, "cream-zh")
    ranked = shop.item_ids.ids(model.similar_items([cream], k=len(TEXTS) - 1).item_idx[0])
    assert set(ranked[:2]) <= {"cream-en", "cream-zh-2", "cold-lotion"}
    assert ranked.index("shoe-zh") > ranked.index("cream-en") and ranked.index("shoe-zh") >= 4


def test_history_of_shoes_recommends_sports_items(model: ContentModel, shop: Dataset) -> None:
    recs = model.recommend(UserBatch.of_histories([idx(shop, "shoe-zh")]), k=2)
    assert set(shop.item_ids.ids(recs.item_idx[0])) == {"shoe-en", "ball"}


def test_cold_item_is_scored_from_text(model: ContentModel, shop: Dataset) -> None:
    recs = model.recommend(UserBatch.of_histories([idx(shop, "cream-zh", "cream-en")]), k=3)
    assert "cold-lotion" in shop.item_ids.ids(recs.item_idx[0])
    assert np.isfinite(recs.scores).all()


def test_latest_event_weighs_most(shop: Dataset) -> None:
    model = ContentModel(decay=0.5).fit(shop)
    shoes_last = model.recommend(UserBatch.of_histories([idx(shop, "serum", "shoe-zh")]), k=1)
    cream_last = model.recommend(UserBatch.of_histories([idx(shop, "shoe-zh", "serum")]), k=1)
    assert shop.item_ids.id(shoes_last.item_idx[0, 0]) == "shoe-en"
    assert shop.item_ids.id(cream_last.item_idx[0, 0]).startswith("cream")


def test_empty_history_falls_back_to_popularity(model: ContentModel, shop: Dataset) -> None:
    recs = model.recommend(UserBatch.of_histories([[]]), k=1)
    assert shop.item_ids.id(recs.item_idx[0, 0]) == "cream-en"  # the only item bought twice


def test_text_query_uses_the_same_encoder(model: ContentModel, shop: Dataset) -> None:
    scores = model.text_scores(["跑鞋", "face cream"])
    assert shop.item_ids.id(int(scores[0].argmax())).startswith("shoe")
    assert shop.item_ids.id(int(scores[1].argmax())).startswith("cream")


def test_save_load_gives_identical_recommendations(
    model: ContentModel, shop: Dataset, tmp_path: Path
) -> None:
    model.save(tmp_path / "content")
    loaded = ContentModel.load(tmp_path / "content")
    users = shop.user_batch(np.arange(shop.n_users))
    before, after = model.recommend(users, k=4), loaded.recommend(users, k=4)
    np.testing.assert_array_equal(before.item_idx, after.item_idx)
    np.testing.assert_array_equal(before.scores, after.scores)
