"""Business rules, applied after scoring and before the top k.

Three kinds of small pure functions over candidate item indices and a `RuleContext`:

- filters -> a keep-mask over the candidates: shown, in stock, category, brand, price range
  (catalogue facts, shared by every user of a request, so they restrict what the models rank);
- boosts -> new scores: new arrivals and promoted items, multiplied or added;
- diversity -> the positions of the k picked candidates: a per-top-category cap, or MMR.

Per-user exclusions (seen, purchased, disliked, listed ids) come from `excluded`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field, ValidationError

from tailor.errors import InvalidInputError
from tailor.rank.items import ItemFacts, brand_key
from tailor.settings import RuleSettings

DAY_MS = 86_400_000
NEW_BOOST = "new_boost"
PROMOTED_BOOST = "promoted_boost"


class Rules(RuleSettings):
    """One request's rules: the configured defaults plus the request's own filters."""

    exclude_ids: tuple[str, ...] = ()
    category: str | None = None
    brands: tuple[str, ...] = ()
    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)

    @classmethod
    def of(cls, defaults: RuleSettings, overrides: Mapping[str, Any] | None = None) -> Rules:
        """The defaults with the given (not None) overrides; InvalidInputError names a bad one."""
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        try:
            return cls.model_validate({**defaults.model_dump(), **given})
        except ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(str(p) for p in err["loc"])
            raise InvalidInputError(f"{name}: {err['msg']}", field=name) from None


@dataclass(frozen=True)
class UserEvents:
    """What rules need of one user's events, as item indices."""

    seen: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    purchased: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    disliked: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


@dataclass(frozen=True)
class RuleContext:
    items: ItemFacts
    rules: Rules
    now_ms: float
    excluded_ids: np.ndarray  # item_idx of `rules.exclude_ids` (-1 for unknown ids)
    vectors: np.ndarray | None = None  # unit item vectors for MMR; None: category one-hots


# ---- filters: (candidates, context) -> keep-mask ------------------------------------------------


def shown(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    return ctx.items.shown[candidates]


def in_stock(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    if not ctx.rules.in_stock_only:
        return np.ones(len(candidates), dtype=bool)
    return ctx.items.in_stock[candidates]


def in_category(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    if not ctx.rules.category:
        return np.ones(len(candidates), dtype=bool)
    return ctx.items.under(ctx.rules.category)[candidates]


def of_brands(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    if not ctx.rules.brands:
        return np.ones(len(candidates), dtype=bool)
    wanted = [brand_key(b) for b in ctx.rules.brands]
    return np.isin(ctx.items.brand_key[candidates], wanted)


def in_price_range(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    """Items of unknown price are kept only when no bound is asked for."""
    price = ctx.items.price[candidates]
    keep = np.ones(len(candidates), dtype=bool)
    if ctx.rules.price_min is not None:
        keep &= price >= ctx.rules.price_min
    if ctx.rules.price_max is not None:
        keep &= price <= ctx.rules.price_max
    return keep


FILTERS: tuple[Callable[[np.ndarray, RuleContext], np.ndarray], ...] = (
    shown,
    in_stock,
    in_category,
    of_brands,
    in_price_range,
)


def allowed(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    """The candidates that pass every filter."""
    keep = np.ones(len(candidates), dtype=bool)
    for rule in FILTERS:
        keep &= rule(candidates, ctx)
    return candidates[keep]


def excluded(user: UserEvents, ctx: RuleContext) -> np.ndarray:
    """Item indices this user must not get: disliked (always), listed ids, and per the rules seen
    and purchased items."""
    parts = [user.disliked, ctx.excluded_ids]
    if ctx.rules.exclude_seen:
        parts.append(user.seen)
    if ctx.rules.exclude_purchased:
        parts.append(user.purchased)
    found = np.unique(np.concatenate(parts).astype(np.int64))
    return found[found >= 0]


# ---- boosts: (candidates, scores, context) -> scores ------------------------------------------


def is_new(candidates: np.ndarray, ctx: RuleContext) -> np.ndarray:
    created = ctx.items.created_at[candidates]
    return created >= ctx.now_ms - ctx.rules.new_days * DAY_MS


def boost_new(candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext) -> np.ndarray:
    return _boost(scores, is_new(candidates, ctx), ctx.rules.new_boost, ctx.rules.boost_mode)


def boost_promoted(candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext) -> np.ndarray:
    hit = ctx.items.promoted[candidates]
    return _boost(scores, hit, ctx.rules.promoted_boost, ctx.rules.boost_mode)


BOOSTS: dict[str, Callable[[np.ndarray, np.ndarray, RuleContext], np.ndarray]] = {
    NEW_BOOST: boost_new,
    PROMOTED_BOOST: boost_promoted,
}


def boosted(
    candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext
) -> tuple[np.ndarray, list[list[str]]]:
    """Scores after every boost, and per candidate the names of the boosts that changed it."""
    applied: list[list[str]] = [[] for _ in candidates]
    for name, rule in BOOSTS.items():
        after = rule(candidates, scores, ctx)
        for position in np.flatnonzero(after != scores):
            applied[position].append(name)
        scores = after
    return scores, applied


def _boost(scores: np.ndarray, hit: np.ndarray, amount: float, mode: str) -> np.ndarray:
    if mode == "add":
        return np.where(hit, scores + amount, scores)
    return np.where(hit, scores * amount, scores)


# ---- diversity: (candidates, scores, context, k) -> positions picked, best first ---------------


def category_cap(
    candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext, k: int
) -> np.ndarray:
    """Best first, at most `category_cap` items per top-level category (items without a category
    are not capped). When the capped list is shorter than k, the best skipped items fill it."""
    order = np.argsort(-scores, kind="stable")
    tops = ctx.items.top[candidates[order]]
    counts: dict[int, int] = {}
    kept, skipped = [], []
    for position, top in zip(order.tolist(), tops.tolist()):
        if top >= 0 and counts.get(top, 0) >= ctx.rules.category_cap:
            skipped.append(position)
            continue
        counts[top] = counts.get(top, 0) + 1
        kept.append(position)
        if len(kept) == k:
            break
    return np.array((kept + skipped)[:k], dtype=np.int64)


def mmr(candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext, k: int) -> np.ndarray:
    """Maximal marginal relevance: repeatedly take the candidate maximising
    lambda * relevance - (1 - lambda) * (its largest similarity to the items already taken),
    relevance being the score rescaled to [0, 1] over the candidates."""
    n = len(candidates)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    finite = np.isfinite(scores)
    valid = scores[finite]
    low, high = (valid.min(), valid.max()) if len(valid) else (0.0, 1.0)
    relevance = np.where(finite, (scores - low) / max(high - low, 1e-12), -np.inf)
    lam = ctx.rules.mmr_lambda
    closest = np.zeros(n)
    free = np.ones(n, dtype=bool)
    picked: list[int] = []
    for _ in range(min(k, n)):
        gain = np.where(free, lam * relevance - (1 - lam) * closest, -np.inf)
        best = int(np.argmax(gain))
        picked.append(best)
        free[best] = False
        closest = np.maximum(closest, similarity_to(candidates, best, ctx))
    return np.array(picked, dtype=np.int64)


def similarity_to(candidates: np.ndarray, position: int, ctx: RuleContext) -> np.ndarray:
    """Similarity of each candidate to the one at `position`: the cosine of their item vectors;
    without vectors, of the concatenated one-hots of full category path and top-level category
    (same leaf 1, same top 0.5, else 0). One row at a time: a matrix-vector product stays clear
    of the BLAS thread start-up a small matrix product pays."""
    if ctx.vectors is not None:
        return ctx.vectors[candidates] @ ctx.vectors[candidates[position]]
    paths = ctx.items.category[candidates]
    tops = ctx.items.top[candidates]
    same_path = (paths == paths[position]) & (paths != "")
    same_top = (tops == tops[position]) & (tops >= 0)
    return 0.5 * same_path + 0.5 * same_top


def top_by_score(
    candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext, k: int
) -> np.ndarray:
    return np.argsort(-scores, kind="stable")[:k]


DIVERSITY: dict[str, Callable[[np.ndarray, np.ndarray, RuleContext, int], np.ndarray]] = {
    "none": top_by_score,
    "cap": category_cap,
    "mmr": mmr,
}


@dataclass(frozen=True)
class Picked:
    positions: np.ndarray  # into the candidates, in answer order
    scores: np.ndarray  # their boosted scores
    boosts: list[list[str]]  # the boosts applied to each


def pick(candidates: np.ndarray, scores: np.ndarray, ctx: RuleContext, k: int) -> Picked:
    """Boost, then pick k with the configured diversity."""
    scores, applied = boosted(candidates, scores, ctx)
    positions = DIVERSITY[ctx.rules.diversity](candidates, scores, ctx, k)
    return Picked(positions, scores[positions], [applied[p] for p in positions.tolist()])
