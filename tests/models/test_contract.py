"""The contract every recommender keeps. To add a model, append a `Case` to CASES."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.data.splits import leave_one_out
from tailor.errors import NotFittedError, UnsupportedError
from tailor.evaluation import evaluate
from tailor.models import Recommender, model_class
from tailor.types import UserBatch


@dataclass(frozen=True)
class Case:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    personalised: bool = True

    def build(self) -> Recommender:
        return model_class(self.name)(**self.params)

    def __str__(self) -> str:
        return self.name


CASES = [
    Case("popular", personalised=False),
    Case("trending", {"window_days": 10.0, "half_life_days": 3.0}, personalised=False),
    Case("itemknn", {"neighbours": 20}),
    Case("als", {"factors": 8, "iterations": 10, "regularization": 0.1, "num_threads": 1}),
    Case("ease", {"l2": 10.0}),
    # Every event in one basket per user: the contract data has few co-purchases.
    Case("cobought", {"basket_kinds": ("view", "purchase"), "session_gap_minutes": 60 * 24 * 60}),
    Case("content"),
    Case(
        "transformer",
        {
            "dim": 16,
            "layers": 1,
            "epochs": 20,
            "max_len": 10,
            "batch_size": 32,
            "lr": 5e-3,
            "dropout": 0.1,
            "threads": 1,
        },
    ),
]
PERSONALISED = [c for c in CASES if c.personalised]
_fitted: dict[str, Recommender] = {}


@pytest.fixture(params=CASES, ids=str)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def model(case: Case, clustered: Dataset) -> Recommender:
    """One fitted model per case, shared by the tests that only read it."""
    if case.name not in _fitted:
        _fitted[case.name] = case.build().fit(clustered)
    return _fitted[case.name]


def test_shapes_and_order(model: Recommender, clustered: Dataset) -> None:
    users = clustered.user_batch(np.arange(7))
    recs = model.recommend(users, k=5)
    assert recs.item_idx.shape == (7, 5) and recs.scores.shape == (7, 5)
    assert recs.item_idx.dtype == np.int64 and recs.scores.dtype == np.float32
    assert np.all(np.diff(recs.scores, axis=1) <= 0)
    assert np.all((recs.item_idx >= 0) & (recs.item_idx < clustered.n_items))


def test_pads_when_k_exceeds_catalogue(model: Recommender, clustered: Dataset) -> None:
    users = clustered.user_batch([0, 1])
    k = clustered.n_items + 5
    recs = model.recommend(users, k=k)
    for row, history in enumerate(users.histories):
        n_valid = clustered.n_items - len(np.unique(history))
        assert np.all(recs.item_idx[row, :n_valid] >= 0)
        assert np.all(recs.item_idx[row, n_valid:] == -1)
        assert np.all(np.isneginf(recs.scores[row, n_valid:]))


def test_masks_seen_items_unless_asked(model: Recommender, clustered: Dataset) -> None:
    users = clustered.user_batch(np.arange(20))
    recs = model.recommend(users, k=10)
    for row, history in enumerate(users.histories):
        assert not set(recs.item_idx[row]) & set(history.tolist())
    unmasked = model.recommend(users, k=10, exclude_seen=False)
    assert any(set(unmasked.item_idx[r]) & set(h.tolist()) for r, h in enumerate(users.histories))


def test_exclude_and_candidates(model: Recommender, clustered: Dataset) -> None:
    users = clustered.user_batch([0, 1, 2])
    first = model.recommend(users, k=3, exclude_seen=False).item_idx
    shared = model.recommend(users, k=3, exclude_seen=False, exclude=first[0])
    assert not set(shared.item_idx.ravel()) & set(first[0])
    per_user = model.recommend(users, k=3, exclude_seen=False, exclude=list(first))
    for row in range(3):
        assert not set(per_user.item_idx[row]) & set(first[row])
    candidates = np.array([3, 5, 7, 11])
    limited = model.recommend(users, k=6, exclude_seen=False, candidates=candidates)
    assert set(limited.item_idx[:, :4].ravel()) <= set(candidates)
    assert np.all(limited.item_idx[:, 4:] == -1)


def test_save_load_round_trip(model: Recommender, case: Case, clustered: Dataset, tmp_path) -> None:
    model.save(tmp_path / "m")
    loaded = type(model).load(tmp_path / "m")
    users = clustered.user_batch(np.arange(30))
    before, after = model.recommend(users, k=10), loaded.recommend(users, k=10)
    np.testing.assert_array_equal(before.item_idx, after.item_idx)
    np.testing.assert_allclose(before.scores, after.scores, rtol=1e-6)
    assert loaded.params == model.params


def test_deterministic(model: Recommender, case: Case, clustered: Dataset) -> None:
    users = clustered.user_batch(np.arange(30))
    again = case.build().fit(clustered)
    np.testing.assert_array_equal(
        model.recommend(users, 10).item_idx, again.recommend(users, 10).item_idx
    )


def test_not_fitted(case: Case, clustered: Dataset) -> None:
    with pytest.raises(NotFittedError):
        case.build().recommend(clustered.user_batch([0]), k=5)
    with pytest.raises(NotFittedError):
        case.build().save("/nonexistent/never-written")


def test_unknown_user_scored_from_history(
    model: Recommender, case: Case, clustered: Dataset, item_block
) -> None:
    block_items = [clustered.item_ids.index(f"c2-{i}") for i in range(5)]
    recs = model.recommend(UserBatch.of_histories([block_items, []]), k=5)
    assert np.all(recs.item_idx >= 0)
    assert not set(recs.item_idx[0]) & set(block_items)
    if case.personalised:
        assert np.mean(item_block(recs.item_idx[0], clustered) == 2) >= 0.8


def test_similar_items(model: Recommender, clustered: Dataset, item_block) -> None:
    items = np.array([clustered.item_ids.index("c1-3"), clustered.item_ids.index("c3-0")])
    if not model.supports_similar_items:
        with pytest.raises(UnsupportedError):
            model.similar_items(items, k=5)
        return
    recs = model.similar_items(items, k=5)
    assert not np.any(recs.item_idx == items[:, None])
    for row, own in enumerate([1, 3]):
        blocks = item_block(recs.item_idx[row], clustered)
        # Global items co-occur with everything; items of another cluster never do.
        assert np.mean(blocks == own) >= 0.6, blocks
        assert not np.any((blocks != own) & (blocks != -1)), blocks


@pytest.fixture(scope="module")
def split(clustered: Dataset):
    return leave_one_out(clustered)


@pytest.fixture(scope="module")
def popular_recall(split) -> float:
    return evaluate(model_class("popular")().fit(split.train), split.test, ks=(10,))["recall_at_10"]


@pytest.mark.parametrize("case", PERSONALISED, ids=str)
def test_recovers_planted_clusters(case: Case, split, popular_recall: float) -> None:
    recall = evaluate(case.build().fit(split.train), split.test, ks=(10,))["recall_at_10"]
    assert recall >= popular_recall + 0.2, (recall, popular_recall)
