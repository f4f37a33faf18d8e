"""Each business rule on the hand-made catalogue (see conftest.py for the items)."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.errors import InvalidInputError
from tailor.rank import rules as r
from tailor.rank.rules import Rules, UserEvents
from tailor.settings import RuleSettings

ALL = np.arange(8)


def ids(items, idx) -> list[str]:
    return items.item_ids.ids(np.asarray(idx).tolist())


def kept(items, rule, ctx) -> list[str]:
    return ids(items, ALL[rule(ALL, ctx)])


def test_in_stock_drops_known_zero_stock_and_keeps_unknown(items, context):
    assert "i1" not in kept(items, r.in_stock, context())
    assert "i2" in kept(items, r.in_stock, context())  # stock unknown counts as in stock
    assert kept(items, r.in_stock, context(in_stock_only=False)) == ids(items, ALL)


def test_category_keeps_a_branch_by_whole_levels(items, context):
    assert kept(items, r.in_category, context(category="美妆 Beauty/护肤 Skin")) == ["i0", "i1"]
    assert kept(items, r.in_category, context(category=" 美妆 Beauty / 护肤 Skin /")) == [
        "i0",
        "i1",
    ]
    assert kept(items, r.in_category, context(category="美妆 Beauty/护肤")) == []
    assert kept(items, r.in_category, context(category="家居 Home")) == ["i3", "i4", "i5"]


def test_brand_filter_takes_one_or_many_brands_ignoring_case_and_blanks(items, context):
    assert kept(items, r.of_brands, context(brands=("COZEN",))) == ["i3", "i4"]
    assert kept(items, r.of_brands, context(brands=("Aura", "Bloom"))) == ["i0", "i1", "i2", "i5"]
    assert kept(items, r.of_brands, context()) == ids(items, ALL)


def test_price_range_is_inclusive_and_drops_unknown_prices_only_when_bounded(items, context):
    assert kept(items, r.in_price_range, context(price_min=30, price_max=80)) == ["i1", "i2", "i3"]
    assert kept(items, r.in_price_range, context(price_max=10)) == ["i0", "i6"]
    assert "i5" in kept(items, r.in_price_range, context())


def test_allowed_applies_every_filter_and_never_shows_hidden_items(items, context):
    assert ids(items, r.allowed(ALL, context())) == ["i0", "i2", "i3", "i4", "i5", "i7"]
    ctx = context(category="家居 Home", brands=("cozen",), price_max=100)
    assert ids(items, r.allowed(ALL, ctx)) == ["i3"]


def test_exclusions_of_ids_seen_purchased_and_always_disliked(items, context):
    user = UserEvents(seen=np.array([0, 2]), purchased=np.array([2, 3]), disliked=np.array([5]))
    assert r.excluded(user, context()).tolist() == [0, 2, 3, 5]
    assert r.excluded(user, context(exclude_seen=False)).tolist() == [2, 3, 5]
    off = context(exclude_seen=False, exclude_purchased=False, exclude_ids=("i7", "unknown"))
    assert r.excluded(user, off).tolist() == [5, 7]  # disliked stays out whatever the rules


def test_new_items_are_created_within_new_days(items, context):
    assert ids(items, ALL[r.is_new(ALL, context(new_days=30))]) == ["i0"]
    assert ids(items, ALL[r.is_new(ALL, context(new_days=150))]) == ["i0", "i4"]


@pytest.mark.parametrize("mode, new, promoted", [("multiply", 1.5, 1.5), ("add", 0.2, 0.2)])
def test_boosts_change_the_order(items, context, mode, new, promoted):
    candidates = np.array([4, 3, 0, 2])  # i4 old, i3 promoted, i0 new and promoted
    scores = np.array([1.0, 0.9, 0.8, 0.7])
    ctx = context(boost_mode=mode, new_boost=new, promoted_boost=promoted, diversity="none")
    picked = r.pick(candidates, scores, ctx, 4)
    assert ids(items, candidates[picked.positions]) == ["i0", "i3", "i4", "i2"]
    assert picked.boosts == [["new_boost", "promoted_boost"], ["promoted_boost"], [], []]
    assert np.all(np.diff(picked.scores) <= 0)
    plain = r.pick(candidates, scores, context(new_boost=1.0, promoted_boost=1.0), 4)
    assert ids(items, candidates[plain.positions]) == ["i4", "i3", "i0", "i2"]
    assert plain.boosts == [[], [], [], []]


def test_category_cap_holds_and_fills_from_the_skipped_when_short(items, context):
    candidates = np.array([0, 1, 2, 7, 3, 4, 5])  # three Beauty first, then no category, Home
    scores = np.linspace(1.0, 0.4, len(candidates))
    ctx = context(category_cap=2)
    picked = candidates[r.category_cap(candidates, scores, ctx, 5)]
    assert ids(items, picked) == ["i0", "i1", "i7", "i3", "i4"]
    tops = items.top[picked]
    assert max(np.sum(tops == t) for t in set(tops[tops >= 0].tolist())) <= 2
    beauty = np.array([0, 1, 2])
    short = beauty[r.category_cap(beauty, np.array([3.0, 2.0, 1.0]), context(category_cap=1), 3)]
    assert ids(items, short) == ["i0", "i1", "i2"]  # the cap holds while other items exist


def pairwise(items_idx: np.ndarray, ctx) -> np.ndarray:
    return np.stack([r.similarity_to(items_idx, i, ctx) for i in range(len(items_idx))])


def mean_pairwise(similarity: np.ndarray) -> float:
    n = len(similarity)
    return float((similarity.sum() - np.trace(similarity)) / (n * (n - 1)))


def test_mmr_lowers_the_similarity_of_the_list(items, context):
    candidates = np.array([0, 1, 2, 3, 4, 5, 7])  # Beauty (same leaf branch) scores highest
    scores = np.array([1.0, 0.98, 0.96, 0.6, 0.58, 0.5, 0.4])
    plain = candidates[r.top_by_score(candidates, scores, context(), 3)]
    diverse = candidates[r.mmr(candidates, scores, context(mmr_lambda=0.3), 3)]
    ctx = context()
    before = mean_pairwise(pairwise(plain, ctx))
    after = mean_pairwise(pairwise(diverse, ctx))
    assert diverse[0] == 0 and after < before
    only_relevance = candidates[r.mmr(candidates, scores, context(mmr_lambda=1.0), 3)]
    assert only_relevance.tolist() == plain.tolist()


def test_mmr_relevance_does_not_depend_on_the_score_scale(items, context):
    candidates = np.array([0, 1, 2, 3, 4, 5, 7])
    rrf_like = np.array([0.05, 0.049, 0.048, 0.03, 0.029, 0.02, 0.01])
    ctx = context(mmr_lambda=0.8)
    picked = r.mmr(candidates, rrf_like, ctx, 4)
    assert picked.tolist() == r.mmr(candidates, rrf_like * 1000 - 7, ctx, 4).tolist()
    assert picked.tolist()[:2] == [0, 1]  # with lambda 0.8 relevance still leads


def test_mmr_uses_item_vectors_when_given(items, context):
    vectors = np.zeros((8, 2), dtype=np.float32)
    vectors[[0, 1, 2]] = [1.0, 0.0]  # three identical items
    vectors[[3, 4, 5, 7]] = [0.0, 1.0]
    candidates = np.array([0, 1, 2, 3])
    scores = np.array([1.0, 0.99, 0.98, 0.5])
    picked = candidates[r.mmr(candidates, scores, context(vectors=vectors, mmr_lambda=0.5), 2)]
    assert picked.tolist() == [0, 3]


def test_category_one_hot_similarity(items, context):
    sim = pairwise(np.array([0, 0, 1, 3, 7]), context())
    assert sim[0, 1] == 1.0 and sim[0, 2] == 0.5 and sim[0, 3] == 0.0 and sim[4, 4] == 0.0


def test_request_overrides_are_validated_against_the_defaults():
    defaults = RuleSettings(category_cap=4)
    rules = Rules.of(defaults, {"diversity": "mmr", "price_max": None, "brands": ("a",)})
    assert (rules.diversity, rules.category_cap, rules.price_max, rules.brands) == (
        "mmr",
        4,
        None,
        ("a",),
    )
    with pytest.raises(InvalidInputError, match="mmr_lambda") as caught:
        Rules.of(defaults, {"mmr_lambda": 2})
    assert caught.value.field == "mmr_lambda"
    with pytest.raises(InvalidInputError, match="diversity"):
        Rules.of(defaults, {"diversity": "random"})
