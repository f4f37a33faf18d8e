"""What each baseline computes, checked on data small enough to work out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.data.dataset import Dataset
from tailor.errors import UnsupportedError
from tailor.models.als import ALS
from tailor.models.ease import EASE
from tailor.models.history import history_matrix
from tailor.models.itemknn import ItemKNN
from tailor.models.popular import Popular, Trending
from tailor.types import UserBatch

DAY = 86_400_000


@pytest.fixture
def small() -> Dataset:
    events = pd.DataFrame(
        [
            ("u1", "a", "view", 0),
            ("u1", "b", "purchase", 1),
            ("u2", "a", "view", 2),
            ("u2", "a", "view", 3),
            ("u2", "c", "view", 4),
            ("u3", "b", "view", 5),
            ("u3", "c", "cart", 6),
        ],
        columns=["user_id", "item_id", "kind", "ts"],
    )
    return Dataset.from_events(events)


def test_history_matrix_uses_kind_weights(small: Dataset) -> None:
    a, b = small.item_ids.index("a"), small.item_ids.index("b")
    view, purchase = small.kinds.index("view"), small.kinds.index("purchase")
    users = UserBatch(
        np.array([-1]), [np.array([a, a, b, 99])], [np.array([view, view, purchase, view])]
    )
    row = history_matrix(users, small.n_items, small.kind_weights).toarray()[0]
    assert (
        row[a] == 2.0 and row[b] == 10.0 and row.sum() == 12.0
    )  # item 99 is outside the catalogue
    assert (
        history_matrix(users, small.n_items, small.kind_weights, binary=True).toarray()[0, a] == 1.0
    )
    no_kinds = UserBatch.of_histories([[a, b]])
    assert (
        history_matrix(no_kinds, small.n_items, small.kind_weights, default_weight=3.0).sum() == 6.0
    )


def test_popular_counts_users_or_weights(small: Dataset) -> None:
    ids = small.item_ids
    counts = Popular().fit(small).scores_
    assert [counts[ids.index(i)] for i in "abc"] == [2, 2, 2]
    weighted = Popular(weighted=True).fit(small).scores_
    assert [weighted[ids.index(i)] for i in "abc"] == [3, 11, 7]  # view 1, purchase 10, cart 6


def test_trending_window_and_decay() -> None:
    events = pd.DataFrame(
        [("u", "old", "view", 0), ("u", "mid", "view", 8 * DAY), ("v", "new", "view", 10 * DAY)],
        columns=["user_id", "item_id", "kind", "ts"],
    )
    data = Dataset.from_events(events)

    def score(model: Trending) -> dict[str, float]:
        return {i: float(model.scores_[data.item_ids.index(i)]) for i in ("old", "mid", "new")}

    assert score(Trending(window_days=5, half_life_days=None).fit(data)) == {
        "old": 0,
        "mid": 1,
        "new": 1,
    }
    assert score(Trending(window_days=5, half_life_days=1.0).fit(data)) == pytest.approx(
        {"old": 0, "mid": 0.25, "new": 1}
    )
    assert (
        score(Trending(window_days=None, window_fraction=0.5, half_life_days=None).fit(data))["old"]
        == 0
    )
    with pytest.raises(ValueError):
        Trending(window_days=3, window_fraction=0.5)


def test_itemknn_cosine_shrink_and_neighbours(small: Dataset) -> None:
    ids = small.item_ids
    a, b, c = (ids.index(i) for i in "abc")
    sim = ItemKNN(binary=True).fit(small).similarity_.toarray()
    # binary columns: a = {u1, u2}, b = {u1, u3}, c = {u2, u3}; every pair shares one user
    assert sim[a, b] == pytest.approx(0.5) and sim[b, c] == pytest.approx(0.5) and sim[a, a] == 0
    shrunk = ItemKNN(binary=True, shrink=2.0).fit(small).similarity_.toarray()
    assert shrunk[a, b] == pytest.approx(1 / 4)
    one = ItemKNN(binary=True, neighbours=1).fit(small).similarity_
    assert np.all(np.diff(one.indptr) == 1)


def test_ease_matches_the_closed_form(small: Dataset) -> None:
    model = EASE(l2=2.0, binary=True).fit(small)
    x = small.matrix.toarray() > 0
    p = np.linalg.inv(x.T.astype(float) @ x + 2.0 * np.eye(small.n_items))
    expected = -p / np.diag(p)
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(model.weights_, expected, atol=1e-5)


def test_ease_refuses_a_too_large_catalogue(small: Dataset) -> None:
    with pytest.raises(UnsupportedError, match="max_items"):
        EASE(max_items=2).fit(small)


def test_als_scores_new_events_without_refit(clustered: Dataset, item_block) -> None:
    model = ALS(factors=8, iterations=10, regularization=0.1, num_threads=1).fit(clustered)
    known = clustered.user_batch([0])  # a user of cluster 0
    moved = clustered.item_ids.indices([f"c3-{i}" for i in range(8)])
    after = UserBatch(known.user_idx, [moved])  # the same user, now clicking cluster 3
    recs = model.recommend(after, k=5)
    assert np.mean(item_block(recs.item_idx[0], clustered) == 3) >= 0.8
