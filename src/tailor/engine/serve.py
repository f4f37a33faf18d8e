"""Answering from one loaded artifact: id maps, its two-stage ranker or blend, rules and reasons.

The request path crosses the id maps once: the user's events (read fresh from the store by the
engine) become item indices. With a ranker in the artifact, every model retrieves its candidates
from the latest of them and the ranker orders them (`tailor.rank.ranker`); without one, the
models' rankings are blended by reciprocal rank. The rules (`tailor.rank.rules`) filter, boost
and diversify, and each answer carries a reason in the asked language. A user without usable
history gets the popular items; an item without events is reached through the content model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tailor.artifacts import Artifact
from tailor.errors import UnknownItemError
from tailor.models import Recommender
from tailor.models.base import unit_rows
from tailor.rank.blend import Blend, Blended
from tailor.rank.explain import (
    Contributions,
    Explainer,
    Explanation,
    ModelRank,
)
from tailor.rank.features import FeatureBuilder, ItemSide, kind_groups
from tailor.rank.items import ItemFacts
from tailor.rank.ranker import Ranked
from tailor.rank.rules import (
    Picked,
    RuleContext,
    Rules,
    UserEvents,
    allowed,
    excluded,
    is_new,
    pick,
)
from tailor.types import Recs, UserBatch

POPULAR = "popular"
SIMILAR = "similar"
PURCHASE = "purchase"
SCORING_CHUNK = 256  # users scored at once: bounds the (users x items) score matrices
ItemKind = tuple[str | None, str]  # (item_id, kind) of an event
MAX_FILTERED = 64  # filter combinations whose allowed items are kept


@dataclass(frozen=True)
class History:
    items: np.ndarray  # the latest positive events' item_idx the models score from, oldest first
    kinds: np.ndarray  # their kind codes
    kind_names: list[str]  # their kinds
    events: UserEvents  # seen, purchased and disliked items over all the events read


@dataclass(frozen=True)
class FeedRequest:
    """One user's home-feed request, its rules resolved (see `Engine.feed_request`)."""

    user_id: str
    k: int
    rules: Rules
    lang: str


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: str
    source: str
    explanation: Explanation | None = None
    contributions: Contributions | None = field(default=None, compare=False)


class Serving:
    """A loaded artifact ready to answer. Item facts can follow catalogue writes live."""

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self.blend = Blend(artifact.models, artifact.manifest.blend)
        self.items = ItemFacts(artifact.item_ids, artifact.catalogue)
        self.popularity = artifact.catalogue["popularity"].to_numpy(dtype=np.float32)
        self.by_popularity = np.argsort(-self.popularity, kind="stable")
        # The kinds and weights the models were trained with (Dataset codes kinds in sorted order).
        self.event_weights: dict[str, float] = artifact.manifest.settings["ingest"]["event_weights"]
        self.kind_codes = {kind: code for code, kind in enumerate(sorted(self.event_weights))}
        factors = _unit_factors(artifact.models)
        self.explainer = Explainer(self.blend.members, self.items, factors)
        self.vectors = factors.get("als", next(iter(factors.values()), None))  # for MMR
        self.two_stage = artifact.ranker
        self.kind_groups = kind_groups(sorted(self.event_weights))
        self.features: FeatureBuilder | None = self._feature_builder()
        self._filtered: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # see `_shown`

    @property
    def version(self) -> str:
        return self.artifact.version

    # ---- answers ------------------------------------------------------------------------------

    def recommend(
        self,
        user_ids: Sequence[str],
        events: Mapping[str, Sequence[ItemKind]],
        k: int,
        rules: Rules,
        *,
        n_recent: int,
        lang: str = "en",
        now_ms: float | None = None,
    ) -> list[list[Recommendation]]:
        """Top k for each user from their events (`events`: per user, (item_id, kind) oldest
        first; the models score the latest `n_recent`); popular items for a user without usable
        history. `now_ms` (default: the clock) decides which items are new."""
        ctx = self.context(rules, now_ms)
        shown, keep = self._shown(ctx)
        histories = {u: self._history(events.get(u, ()), n_recent) for u in set(user_ids)}
        pool = max(k, rules.pool)
        answers: list[list[Recommendation]] = [[] for _ in user_ids]
        personal: list[int] = []
        for row, user_id in enumerate(user_ids):
            history = histories.get(user_id)
            if history is not None and len(history.items):
                personal.append(row)
                continue
            blocked = excluded(history.events if history else UserEvents(), ctx)
            answers[row] = self._popular_picks(shown, blocked, pool, k, ctx, lang)
        for start in range(0, len(personal), SCORING_CHUNK):
            rows = personal[start : start + SCORING_CHUNK]
            users = [histories[user_ids[r]] for r in rows]
            batch = UserBatch(
                user_idx=self.artifact.user_ids.indices(user_ids[r] for r in rows),
                histories=[u.items for u in users],
                kinds=[u.kinds for u in users],
            )
            masks = [excluded(u.events, ctx) for u in users]
            if self.two_stage is not None and self.features is not None:
                groups = [self.kind_groups[u.kinds] for u in users]
                ranked = self.two_stage.rank(batch, groups, self.features, keep, masks)
                picks = [self._ranked_picks(ranked, i, pool, k, ctx) for i in range(len(rows))]
                chosen = np.concatenate([at for at, _ in picks]) if picks else np.empty(0, int)
                # One call for the whole batch: LightGBM's per-call cost outweighs 10 rows' work.
                credits = self.two_stage.ranker.contributions(ranked.features[chosen])
                offset = 0
                for i, row in enumerate(rows):
                    at, picked = picks[i]
                    tops = credits[offset : offset + len(at)]
                    offset += len(at)
                    answers[row] = self._ranked_answer(
                        ranked, at, picked, tops, users[i], ctx, lang
                    )
                continue
            blended = self.blend.blend(
                batch, pool, exclude_seen=False, candidates=shown, exclude=masks
            )
            for i, row in enumerate(rows):
                answers[row] = self._personal_picks(blended, i, users[i], k, ctx, lang)
        return answers

    def context(self, rules: Rules, now_ms: float | None = None) -> RuleContext:
        return RuleContext(
            items=self.items,
            rules=rules,
            now_ms=time.time() * 1000 if now_ms is None else now_ms,
            excluded_ids=self.artifact.item_ids.indices(rules.exclude_ids),
            vectors=self.vectors,
        )

    def _personal_picks(
        self, blended: Blended, row: int, history: History, k: int, ctx: RuleContext, lang: str
    ) -> list[Recommendation]:
        fused = blended.fused
        valid = fused.item_idx[row] >= 0
        candidates = fused.item_idx[row][valid]
        sources = fused.reasons[row] if fused.reasons else [POPULAR] * len(candidates)
        picked = pick(candidates, fused.scores[row][valid], ctx, k)
        items = candidates[picked.positions]
        picked_sources = [sources[p] for p in picked.positions.tolist()]
        explanations = self.explainer.explain(
            items, picked_sources, history.items, history.kind_names, is_new(items, ctx), lang
        )
        ranks = blended.member_ranks(row, items.tolist())
        return [
            Recommendation(
                item_id=self.artifact.item_ids.id(int(item)),
                score=float(score),
                reason=explanation.text,
                source=source,
                explanation=explanation,
                contributions=Contributions(models=rank, rules=boosts),
            )
            for item, score, source, explanation, rank, boosts in zip(
                items, picked.scores, picked_sources, explanations, ranks, picked.boosts
            )
        ]

    def _ranked_picks(
        self, ranked: Ranked, row: int, pool: int, k: int, ctx: RuleContext
    ) -> tuple[np.ndarray, Picked]:
        """The ranker's best `pool` candidates of batch row `row`, through the rules: the picked
        candidates' rows in `ranked`, and the picks. Scores are exp(ranker score - the row's
        best), positive so that boosts can multiply them."""
        cands = ranked.candidates
        start, stop = cands.indptr[row], cands.indptr[row + 1]
        raw = ranked.scores[start:stop]
        order = np.argsort(-raw, kind="stable")[:pool]
        at = start + order
        scores = np.exp(raw[order] - raw[order[0]]) if len(order) else raw[order]
        picked = pick(cands.item[at], scores, ctx, k)
        return at[picked.positions], picked

    def _ranked_answer(
        self,
        ranked: Ranked,
        chosen: np.ndarray,
        picked: Picked,
        features: Sequence[dict[str, float]],
        history: History,
        ctx: RuleContext,
        lang: str,
    ) -> list[Recommendation]:
        """The picked candidates (rows `chosen` of `ranked`) with their reasons; `features` are
        their top ranker features."""
        cands = ranked.candidates
        items = cands.item[chosen]
        names = cands.sources
        # Named for the source that ranked it best, preferring one that relates it to the
        # shopper's own items, so the reason can name one of them.
        personal = np.array([name in self.explainer.similar for name in names], dtype=bool)
        best = cands.best_source(personal, chosen) if len(names) else np.empty(0, np.int64)
        sources = [names[s] for s in best.tolist()]
        explanations = self.explainer.explain(
            items, sources, history.items, history.kind_names, is_new(items, ctx), lang
        )
        return [
            Recommendation(
                item_id=self.artifact.item_ids.id(int(item)),
                score=float(score),
                reason=explanation.text,
                source=source,
                explanation=explanation,
                contributions=Contributions(
                    models=_retrieved_by(names, cands.ranks[c], cands.scores[c]),
                    rules=boosts,
                    features=top,
                ),
            )
            for item, c, score, source, explanation, boosts, top in zip(
                items.tolist(), chosen.tolist(), picked.scores, sources, explanations,
                picked.boosts, features,
            )
        ]  # fmt: skip

    def _popular_picks(
        self,
        shown: np.ndarray,
        blocked: np.ndarray,
        pool: int,
        k: int,
        ctx: RuleContext,
        lang: str,
    ) -> list[Recommendation]:
        """The most popular allowed items, through the same boosts and diversity."""
        keep = np.zeros(len(self.popularity), dtype=bool)
        keep[shown] = True
        keep[blocked[blocked >= 0]] = False
        ranked = self.by_popularity[keep[self.by_popularity]][:pool]
        picked = pick(ranked, self.popularity[ranked], ctx, k)
        items = ranked[picked.positions]
        explanations = self.explainer.explain(
            items, [POPULAR] * len(items), np.empty(0, np.int64), [], is_new(items, ctx), lang
        )
        return [
            Recommendation(
                item_id=self.artifact.item_ids.id(item),
                score=float(score),
                reason=explanation.text,
                source=POPULAR,
                explanation=explanation,
                contributions=Contributions(
                    models={POPULAR: ModelRank(position + 1, float(self.popularity[item]))},
                    rules=boosts,
                ),
            )
            for item, position, score, explanation, boosts in zip(
                items.tolist(),
                picked.positions.tolist(),
                picked.scores,
                explanations,
                picked.boosts,
            )
        ]

    def _history(self, events: Sequence[ItemKind], n_recent: int) -> History:
        """The latest `n_recent` events' known items with a positive kind weight (what models
        score from), and over all the events the seen, purchased and disliked (negative weight)
        items."""
        get, weights, codes = self.artifact.item_ids.get, self.event_weights, self.kind_codes
        idx = np.fromiter(
            (get(i, -1) if isinstance(i, str) else -1 for i, _ in events), np.int64, len(events)
        )
        kinds = [kind for _, kind in events]
        weight = np.fromiter((weights.get(kind, 0.0) for kind in kinds), np.float32, len(kinds))
        code = np.fromiter((codes.get(kind, 0) for kind in kinds), np.int16, len(kinds))
        purchase = np.fromiter((kind == PURCHASE for kind in kinds), bool, len(kinds))
        known = np.flatnonzero(idx >= 0)
        positive = known[weight[known] > 0]
        recent = positive[positive >= len(events) - n_recent]
        return History(
            items=idx[recent],
            kinds=code[recent],
            kind_names=[kinds[r] for r in recent.tolist()],
            events=UserEvents(
                seen=idx[positive],
                purchased=idx[known[purchase[known]]],
                disliked=idx[known[weight[known] < 0]],
            ),
        )

    def similar_items(self, item_id: str, k: int) -> list[Recommendation]:
        item = self.artifact.item_ids.get(item_id)
        if item < 0:
            raise UnknownItemError(item_id)
        depth = max(k, self.blend.params.depth)
        recs = self.blend.similar_items([item], depth)
        keep = (recs.item_idx[0] >= 0) & self._available(None)[np.maximum(recs.item_idx[0], 0)]
        trimmed = Recs(
            item_idx=recs.item_idx[:, keep][:, :k],
            scores=recs.scores[:, keep][:, :k],
            reasons=[[r for r, kept in zip(recs.reasons[0], keep) if kept][:k]],
        )
        return self._answers(trimmed, SIMILAR)

    def popular(
        self, k: int, category: str | None, exclude: Iterable[str] = ()
    ) -> list[Recommendation]:
        """The most taken items that are shown, in stock and under `category`."""
        available = self._available(category)
        blocked = self.artifact.item_ids.indices(exclude)
        available[blocked[blocked >= 0]] = False
        top = self.by_popularity[available[self.by_popularity]][:k]
        recs = Recs(item_idx=top[None, :], scores=self.popularity[top][None, :])
        return self._answers(recs, POPULAR, source=POPULAR)

    # ---- live catalogue changes -----------------------------------------------------------------

    def follow_items(self, items: pd.DataFrame) -> None:
        """Take validated, upserted items' facts for the items the artifact knows."""
        categories = self.items.category.copy()
        self.items.update(items)
        if self.two_stage is not None and not np.array_equal(categories, self.items.category):
            self.features = self._feature_builder()

    def sync_catalogue(self, items: pd.DataFrame) -> None:
        """Take item facts from the whole current catalogue (when there is one): items missing
        from it are withdrawn."""
        if not len(items):
            return
        listed = self.artifact.item_ids.indices(items["item_id"].astype(str))
        self.items.withdraw(np.setdiff1d(np.arange(len(self.popularity)), listed))
        self.follow_items(items)

    def withdraw_items(self, item_ids: Iterable[str]) -> None:
        self.items.withdraw(self.artifact.item_ids.indices(item_ids))

    # ---- helpers ------------------------------------------------------------------------------

    def _feature_builder(self) -> FeatureBuilder | None:
        """The ranker's features over the live item facts (prices are read in place)."""
        if self.two_stage is None:
            return None
        items = self.items
        side = ItemSide.of(self.two_stage.stats, items.price, items.category.tolist(), items.top)
        return self.two_stage.features_for(side)

    def _shown(self, ctx: RuleContext) -> tuple[np.ndarray, np.ndarray]:
        """The items every filter of the rules lets through, as indices and as a read-only mask;
        computed once per state of the item facts and filter values, not per request."""
        r = ctx.rules
        key = (self.items.version, r.in_stock_only, r.category, r.brands, r.price_min, r.price_max)
        found = self._filtered.get(key)
        if found is None:
            shown = allowed(np.arange(len(self.popularity)), ctx)
            keep = np.zeros(len(self.popularity), dtype=bool)
            keep[shown] = True
            shown.flags.writeable = keep.flags.writeable = False
            if len(self._filtered) >= MAX_FILTERED or any(k[0] != key[0] for k in self._filtered):
                self._filtered = {}
            found = self._filtered[key] = (shown, keep)
        return found

    def _available(self, category: str | None) -> np.ndarray:
        """Mask of items shown, in stock and (when given) under `category`."""
        available = self.items.shown & self.items.in_stock
        return available & self.items.under(category) if category else available

    def _answers(
        self, recs: Recs, reason: str, source: str | None = None, row: int = 0
    ) -> list[Recommendation]:
        item_ids = self.artifact.item_ids
        sources = recs.reasons[row] if recs.reasons else None
        return [
            Recommendation(
                item_id=item_ids.id(i),
                score=float(s),
                reason=reason,
                source=source or (sources[j] if sources else POPULAR),
            )
            for j, (i, s) in enumerate(recs.row(row))
        ]


def _retrieved_by(
    sources: Sequence[str], ranks: np.ndarray, scores: np.ndarray
) -> dict[str, ModelRank]:
    """The sources that retrieved a candidate, with their rank and score."""
    return {
        name: ModelRank(int(rank), float(score))
        for name, rank, score in zip(sources, ranks.tolist(), scores.tolist())
        if math.isfinite(score)  # on a Python float: np.isfinite costs ~1 us a call
    }


def item_kinds_by_user(events: pd.DataFrame) -> dict[str, list[ItemKind]]:
    """(item_id, kind) of each user's events, in the frame's order."""
    found: dict[str, list[ItemKind]] = {}
    item_ids = events["item_id"].astype(object).where(events["item_id"].notna(), None)
    for user_id, item_id, kind in zip(
        events["user_id"].tolist(), item_ids.tolist(), events["kind"].tolist()
    ):
        found.setdefault(str(user_id), []).append((item_id, kind))
    return found


def _unit_factors(models: Mapping[str, Recommender]) -> dict[str, np.ndarray]:
    """Unit-length item vectors of the models built on them (ALS, the Transformer): their cosine
    is the models' item similarity."""
    unit = {}
    for name, model in models.items():
        vectors = model.similarity_vectors()
        if vectors is not None:
            unit[name] = unit_rows(vectors).astype(np.float32)
    return unit
