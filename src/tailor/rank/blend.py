"""Weighted reciprocal-rank fusion of several fitted recommenders.

Each member ranks its own top `depth` items (with the caller's masks applied); an item scores
sum_m weight_m / (rrf_k + rank_m). Ranks, unlike raw scores, are comparable across models, so a
popularity count and a cosine similarity can be fused without calibration. Every answer names the
member that contributed most to each item, so a response can say where an item came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tailor.data.dataset import Dataset
from tailor.errors import UnsupportedError
from tailor.models.base import Params, Recommender, top_k
from tailor.rank.explain import ModelRank
from tailor.types import Recs, UserBatch


@dataclass(frozen=True)
class Blended:
    fused: Recs  # `reasons`: each item's main source
    members: dict[str, Recs]  # each member's own top `depth`, its raw scores

    def member_ranks(self, row: int, items: Sequence[int]) -> list[dict[str, ModelRank]]:
        """Per item of `items`: the rank and score of each member that ranked it in its top
        `depth` for user `row`."""
        found: list[dict[str, ModelRank]] = [{} for _ in items]
        wanted = {item: i for i, item in enumerate(items)}
        for name, recs in self.members.items():
            for rank, (item, score) in enumerate(
                zip(recs.item_idx[row].tolist(), recs.scores[row].tolist())
            ):
                at = wanted.get(item)
                if at is not None:
                    found[at][name] = ModelRank(rank + 1, score)
        return found


class BlendParams(Params):
    depth: int = 100
    rrf_k: float = 60.0


class Blend(Recommender):
    """Fuses the rankings of its members; members with weight 0 are left out."""

    Params = BlendParams
    name = "blend"

    def __init__(
        self,
        members: Mapping[str, Recommender],
        weights: Mapping[str, float] | None = None,
        params: BlendParams | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(params, **kwargs)
        weights = weights or {}
        self.members = {n: m for n, m in members.items() if weights.get(n, 1.0) > 0}
        if not self.members:
            raise UnsupportedError("the blend has no member with a positive weight")
        self.weights = {n: float(weights.get(n, 1.0)) for n in self.members}
        fitted = {m.n_items_ for m in self.members.values()}
        if len(fitted) == 1:
            self.n_items_ = fitted.pop()

    @property
    def similar_members(self) -> list[str]:
        return [n for n, m in self.members.items() if m.supports_similar_items]

    def _fit(self, data: Dataset) -> None:
        for model in self.members.values():
            model.fit(data)

    def _score(self, users: UserBatch) -> np.ndarray:
        scores, _ = self._fuse(
            {
                n: m.recommend(users, self.params.depth, exclude_seen=False)
                for n, m in self.members.items()
            }
        )
        return scores

    def recommend(
        self,
        users: UserBatch,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: np.ndarray | None = None,
        exclude: Sequence[np.ndarray] | np.ndarray | None = None,
    ) -> Recs:
        """Like `Recommender.recommend`; `reasons` holds the name of each item's main source."""
        return self.blend(
            users, k, exclude_seen=exclude_seen, candidates=candidates, exclude=exclude
        ).fused

    def blend(
        self,
        users: UserBatch,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: np.ndarray | None = None,
        exclude: Sequence[np.ndarray] | np.ndarray | None = None,
    ) -> Blended:
        """The fused top k with each member's own ranking, so an answer can show where it came from."""
        self._check_fitted()
        depth = max(k, self.params.depth)
        member_recs = {
            name: model.recommend(
                users, depth, exclude_seen=exclude_seen, candidates=candidates, exclude=exclude
            )
            for name, model in self.members.items()
        }
        return Blended(self._top(member_recs, k), member_recs)

    def similar_items(self, items: Sequence[int] | np.ndarray, k: int = 10) -> Recs:
        """Fused similar-item lists of the members that support them."""
        self._check_fitted()
        names = self.similar_members
        if not names:
            raise UnsupportedError("none of the trained models supports similar items")
        depth = max(k, self.params.depth)
        return self._top({n: self.members[n].similar_items(items, depth) for n in names}, k)

    def _top(self, member_recs: dict[str, Recs], k: int) -> Recs:
        scores, source = self._fuse(member_recs)
        best = top_k(scores, k)
        names = list(member_recs)
        rows = np.arange(len(best))[:, None]
        picked = source[rows, np.maximum(best.item_idx, 0)]
        reasons = [
            [names[s] for s, i in zip(row_src, row_idx) if i >= 0]
            for row_src, row_idx in zip(picked.tolist(), best.item_idx.tolist())
        ]
        return Recs(item_idx=best.item_idx, scores=best.scores, reasons=reasons)

    def _fuse(self, member_recs: dict[str, Recs]) -> tuple[np.ndarray, np.ndarray]:
        """Fused scores (-inf where no member ranked the item) and the index of the top contributor."""
        n_rows = len(next(iter(member_recs.values())))
        total = np.zeros((n_rows, self.n_items_), dtype=np.float32)
        best = np.zeros_like(total)
        source = np.full(total.shape, -1, dtype=np.int16)
        for m, (name, recs) in enumerate(member_recs.items()):
            rows, ranks = np.nonzero(recs.item_idx >= 0)
            items = recs.item_idx[rows, ranks]
            contribution = self.weights[name] / (self.params.rrf_k + ranks + 1.0)
            total[rows, items] += contribution
            better = contribution > best[rows, items]
            best[rows[better], items[better]] = contribution[better]
            source[rows[better], items[better]] = m
        total[source < 0] = -np.inf
        return total, source
