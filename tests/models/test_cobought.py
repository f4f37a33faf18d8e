"""CoBought: baskets from session gaps, cosine and lift checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.data.dataset import Dataset
from tailor.models import model_class
from tailor.models.cobought import CoBought, basket_matrix

MIN = 60_000
T0 = 1_700_000_000_000


def baskets() -> Dataset:
    """u1 carts A and B, then C two hours later (a second basket); u2 buys A and B; u3 carts A
    then buys C ten minutes later; u4 only views B and C (views are no basket)."""
    rows = [
        ("u1", "A", "cart", T0),
        ("u1", "B", "cart", T0 + 5 * MIN),
        ("u1", "C", "cart", T0 + 125 * MIN),
        ("u2", "A", "purchase", T0),
        ("u2", "B", "purchase", T0 + MIN),
        ("u3", "A", "cart", T0),
        ("u3", "C", "purchase", T0 + 10 * MIN),
        ("u4", "B", "view", T0),
        ("u4", "C", "view", T0 + MIN),
        ("u4", "D", "view", T0 + 2 * MIN),
    ]
    return Dataset.from_events(pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts"]))


def similarity(model: CoBought, data: Dataset, a: str, b: str) -> float:
    return float(model.similarity_[data.item_ids.index(a), data.item_ids.index(b)])


def test_baskets_split_at_the_session_gap():
    data = baskets()
    matrix = basket_matrix(data, ("cart", "purchase"), session_gap_minutes=30)
    assert matrix.shape[0] == 4  # u1 twice, u2, u3
    merged = basket_matrix(data, ("cart", "purchase"), session_gap_minutes=180)
    assert merged.shape[0] == 3


def test_cosine_and_lift_match_hand_computed_values():
    data = baskets()
    cosine = CoBought(shrink=0.0).fit(data)
    # A is in 3 baskets, B and C in 2 each; A+B share 2, A+C share 1, B+C none (views ignored)
    assert similarity(cosine, data, "A", "B") == pytest.approx(2 / np.sqrt(6))
    assert similarity(cosine, data, "A", "C") == pytest.approx(1 / np.sqrt(6))
    assert similarity(cosine, data, "B", "C") == 0.0
    assert similarity(cosine, data, "A", "A") == 0.0
    lift = CoBought(measure="lift").fit(data)
    assert similarity(lift, data, "A", "B") == pytest.approx(2 * 4 / (3 * 2))
    assert similarity(lift, data, "A", "C") == pytest.approx(1 * 4 / (3 * 2))
    shrunk = CoBought(shrink=1.0).fit(data)
    assert similarity(shrunk, data, "A", "B") == pytest.approx(2 / (np.sqrt(6) + 1))


def test_min_count_and_neighbours_prune():
    data = baskets()
    assert similarity(CoBought(min_count=2).fit(data), data, "A", "C") == 0.0
    top1 = CoBought(neighbours=1).fit(data)
    a = data.item_ids.index("A")
    partners, scores = top1.partners(a)
    assert data.item_ids.ids(partners) == ["B"] and scores[0] > 0


def test_partners_best_first_and_empty_for_an_item_never_bought_together():
    data = baskets()
    model = model_class("cobought")().fit(data)
    partners, scores = model.partners(data.item_ids.index("A"))
    assert data.item_ids.ids(partners) == ["B", "C"] and np.all(np.diff(scores) <= 0)
    none, _ = model.partners(data.item_ids.index("D"))
    assert len(none) == 0
