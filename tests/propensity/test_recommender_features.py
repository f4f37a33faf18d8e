"""Recommender-score pair features: known answers, only the past counts, served = trained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.propensity import artifact
from tailor.propensity.features import (
    CATEGORY,
    ITEM,
    before,
    item_categories,
    pair_features,
    popularity,
    prepare_events,
    user_features,
)
from tailor.propensity.recommender import (
    COLUMNS,
    RECOMMENDER_DAYS,
    item_neighbours,
    recommender_features,
)
from tailor.propensity.service import score_pairs, train_propensity
from tailor.settings import load_settings
from tailor.types import DEFAULT_EVENT_WEIGHTS

DAY = 86_400_000
T0 = 1_767_225_600_000
ITEMS = pd.DataFrame(
    {"item_id": ["x", "y", "z"], "category": ["c1", "c1", "c2"], "price": [1.0, 2.0, 3.0]}
)
PAIRS = pd.DataFrame(
    {
        "user_id": ["u4"] * 4,
        "target": ["x", "y", "z", "c1"],
        "level": [ITEM, ITEM, ITEM, CATEGORY],
    }
)
CUTOFF = T0 + DAY


def _views(*rows: tuple[str, str, int]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "ts"])
    return frame.assign(kind="view", value=None)


def _history() -> pd.DataFrame:
    return _views(
        ("u1", "x", T0), ("u1", "y", T0 + 1), ("u2", "x", T0 + 2), ("u2", "y", T0 + 3),
        ("u3", "y", T0 + 4), ("u3", "z", T0 + 5), ("u4", "x", T0 + 6),
    )  # fmt: skip


def _recommender_columns(raw: pd.DataFrame, cutoff: int = CUTOFF) -> pd.DataFrame:
    events = prepare_events(raw, ITEMS)
    past = before(events, cutoff)
    users = user_features(past, load_settings(store_url="sqlite://").profiles)
    table = pair_features(past, PAIRS, users, popularity(past), {}, item_categories(events))
    return table.set_index("target")[COLUMNS]


def test_scores_by_hand():
    """x and y share two of three viewers each: cosine 2/3. z has one viewer, so no neighbours.
    u4 viewed x: y scores 2/3, x itself 0 (the model leaves an item out of its own neighbours)."""
    got = _recommender_columns(_history())
    two_thirds = pytest.approx(2 / 3, rel=1e-6)
    assert got.loc["y"].tolist() == [two_thirds, two_thirds, 1.0, two_thirds]
    assert got.loc["x"].tolist() == [0.0, 0.0, 2.0, two_thirds]
    assert got.loc["z"].tolist() == [0.0, 0.0, 2.0, two_thirds]
    assert got.loc["c1"].tolist() == [two_thirds, two_thirds, 1.0, two_thirds]


def test_events_after_the_cutoff_change_nothing():
    later = _views(("u5", "x", CUTOFF), ("u5", "z", CUTOFF + 1), ("u4", "z", CUTOFF + DAY))
    with_later = pd.concat([_history(), later], ignore_index=True)
    pd.testing.assert_frame_equal(
        _recommender_columns(with_later), _recommender_columns(_history())
    )
    # the same events before the cutoff do change the scores (z gets a second viewer)
    earlier = later.assign(ts=later["ts"] - DAY)
    moved = _recommender_columns(pd.concat([_history(), earlier], ignore_index=True))
    assert moved.loc["z", "rec_score"] > 0


def test_no_item_with_two_users_scores_nothing():
    alone = _views(("u4", "x", T0), ("u4", "y", T0 + 1), ("u3", "z", T0 + 2))
    got = _recommender_columns(alone)
    assert (got["rec_score"] == 0).all() and (got["rec_rank"] == 1).all()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, stored_small_shop):
    _, settings, shop = stored_small_shop(tmp_path_factory.mktemp("recommender"), seed=5)
    with Engine(settings) as engine:
        model = train_propensity(engine.store, settings)
    return settings, shop, model


def test_served_features_equal_training_features(trained):
    """What the service computes for one user from the store, now = the end of the training
    data, equals what training computes at that cutoff from every user's events."""
    settings, shop, model = trained
    loaded = artifact.load(settings.artifacts_dir)
    now = model.trained_until
    events = prepare_events(shop.events, shop.items)
    past = before(events, now)
    users = user_features(past, settings.profiles)
    buyers = shop.events[shop.events["kind"] == "purchase"]["user_id"].unique()[:5]
    with Engine(settings) as engine:
        for user_id in buyers:
            pairs = _pairs_of(events, user_id, shop.items)
            trained_table = pair_features(
                past, pairs, users, popularity(past), model.intervals, item_categories(events)
            )
            raw = engine.store.recent_events(user_id, settings.service.history_events)
            own_items = shop.items[
                shop.items["item_id"].isin(set(raw["item_id"]) | set(pairs["target"]))
            ]
            own_past = before(prepare_events(raw, own_items), now)
            served_table, _ = score_pairs(
                loaded,
                loaded.horizons[7],
                own_past,
                pairs,
                user_features(own_past, settings.profiles),
                own_items,
            )
            served, expected = served_table[COLUMNS], trained_table[COLUMNS]
            assert (expected["rec_best_score"] > 0).all()
            np.testing.assert_allclose(served.to_numpy(), expected.to_numpy(), rtol=1e-5)


def _pairs_of(events: pd.DataFrame, user_id: str, items: pd.DataFrame) -> pd.DataFrame:
    """Two items the user touched, one they did not, and the first item's category."""
    own = events[events["user_id"] == user_id]["item_id"].dropna().unique()[:2].tolist()
    untouched = next(i for i in items["item_id"] if i not in set(own))
    category = items.set_index("item_id").at[own[0], "category"]
    return pd.DataFrame(
        {
            "user_id": user_id,
            "target": [*own, untouched, category],
            "level": [ITEM, ITEM, ITEM, CATEGORY],
        }
    )


def test_sparse_scores_equal_the_dense_computation():
    """On a small shop, every feature equals the same sums and counts done densely."""
    shop = generate_shop(150, 80, days=20, seed=3)
    events = prepare_events(shop.events, shop.items)
    past = before(events, int(events["ts"].max()) - 3 * DAY)
    neighbours = item_neighbours(past)
    ids = neighbours["item_id"].cat.categories
    dense_similarity = np.zeros((len(ids), len(ids)))
    dense_similarity[neighbours["item_id"].cat.codes, neighbours["neighbour"].cat.codes] = (
        neighbours["similarity"]
    )
    window = past[past["item_id"].isin(ids) & (past["age"] < RECOMMENDER_DAYS)]
    weights = window["kind"].map(DEFAULT_EVENT_WEIGHTS).fillna(0.0)
    history = (
        window.assign(weight=weights)
        .pivot_table(index="user_id", columns="item_id", values="weight", aggfunc="sum")
        .reindex(columns=ids, fill_value=0.0)
        .fillna(0.0)
    )
    dense = pd.DataFrame(history.to_numpy() @ dense_similarity, index=history.index, columns=ids)
    rng = np.random.default_rng(0)
    users = rng.choice(history.index, 40)
    categories = shop.items.set_index("item_id")["category"]
    pairs = pd.DataFrame(
        {
            "user_id": np.concatenate([users, users]),
            "target": np.concatenate(
                [rng.choice(ids, 40), categories.loc[rng.choice(ids, 40)].to_numpy()]
            ),
            "level": [ITEM] * 40 + [CATEGORY] * 40,
        }
    )
    got = recommender_features(past, pairs, neighbours)
    for row, pair in pairs.iterrows():
        scores = dense.loc[pair["user_id"]]
        if pair["level"] == ITEM:
            own = scores[[pair["target"]]]
        else:
            own = scores[categories.reindex(ids).to_numpy() == pair["target"]]
        expected = [own.max(), own.sum(), 1 + (scores > own.max() * (1 + 1e-6)).sum(), scores.max()]
        np.testing.assert_allclose(got.loc[row].to_numpy(), expected, rtol=1e-5)
