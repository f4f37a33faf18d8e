"""Answering from one loaded artifact: id maps, the blend of its models and the catalogue masks.

The request path crosses the id maps once: the user's recent events (read fresh from the store by
the engine) become item indices, the blend scores them, and the masks remove what must not be shown:
seen, disliked and excluded items, hidden or sold-out items, and items outside the asked category.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.artifacts import Artifact
from tailor.engine.blend import Blend
from tailor.errors import UnknownItemError
from tailor.types import CATEGORY_SEPARATOR, Recs, UserBatch

PERSONALIZED = "personalized"
POPULAR = "popular"
NO_HISTORY = "popular: no history for this user"
UNKNOWN_HISTORY = "popular: none of this user's items are in the model yet"
SIMILAR = "similar"
MAX_CACHED_CATEGORIES = 1024


@dataclass(frozen=True)
class Recommendation:
    item_id: str
    score: float
    reason: str
    source: str


class Serving:
    """A loaded artifact ready to answer. Item availability can follow catalogue writes live."""

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self.blend = Blend(artifact.models, artifact.manifest.blend)
        catalogue = artifact.catalogue
        self.categories = catalogue["category"].fillna("").astype(str).to_numpy(dtype=object)
        self.available = catalogue["listed"].to_numpy(dtype=bool) & ~(
            catalogue["hidden"].to_numpy(dtype=bool)
            | (catalogue["stock"].fillna(1).to_numpy() <= 0)
        )
        self.popularity = catalogue["popularity"].to_numpy(dtype=np.float32)
        # The kinds and weights the models were trained with (Dataset codes kinds in sorted order).
        self.event_weights: dict[str, float] = artifact.manifest.settings["ingest"]["event_weights"]
        self.kind_codes = {kind: code for code, kind in enumerate(sorted(self.event_weights))}
        self._in_category: dict[str, np.ndarray] = {}

    @property
    def version(self) -> str:
        return self.artifact.version

    # ---- answers ------------------------------------------------------------------------------

    def recommend(
        self,
        user_id: str,
        recent: pd.DataFrame,
        k: int,
        exclude: Iterable[str],
        category: str | None,
    ) -> list[Recommendation]:
        """Top k for a user from their recent events (oldest first); popularity when none is usable."""
        item_ids = self.artifact.item_ids
        idx = item_ids.indices(i if isinstance(i, str) else "" for i in recent["item_id"].tolist())
        kinds = recent["kind"].tolist()
        weight = np.array([self.event_weights.get(kind, 0.0) for kind in kinds], dtype=np.float32)
        known = idx >= 0
        positive = known & (weight > 0)
        blocked = np.concatenate([idx[known & (weight < 0)], item_ids.indices(exclude)])
        if not positive.any():
            reason = UNKNOWN_HISTORY if (weight > 0).any() else NO_HISTORY
            return self._popular(k, category, blocked, reason)
        batch = UserBatch(
            user_idx=np.array([self.artifact.user_ids.get(user_id)], dtype=np.int64),
            histories=[idx[positive]],
            kinds=[
                np.array(
                    [self.kind_codes[kinds[i]] for i in np.flatnonzero(positive)], dtype=np.int16
                )
            ],
        )
        recs = self.blend.recommend(
            batch, k, exclude=self._unavailable(blocked), candidates=self._candidates(category)
        )
        return self._answers(recs, PERSONALIZED)

    def similar_items(self, item_id: str, k: int) -> list[Recommendation]:
        item = self.artifact.item_ids.get(item_id)
        if item < 0:
            raise UnknownItemError(item_id)
        depth = max(k, self.blend.params.depth)
        recs = self.blend.similar_items([item], depth)
        keep = (recs.item_idx[0] >= 0) & self.available[np.maximum(recs.item_idx[0], 0)]
        trimmed = Recs(
            item_idx=recs.item_idx[:, keep][:, :k],
            scores=recs.scores[:, keep][:, :k],
            reasons=[[r for r, kept in zip(recs.reasons[0], keep) if kept][:k]],
        )
        return self._answers(trimmed, SIMILAR)

    def popular(
        self, k: int, category: str | None, exclude: Iterable[str] = ()
    ) -> list[Recommendation]:
        return self._popular(k, category, self.artifact.item_ids.indices(exclude), POPULAR)

    # ---- live catalogue changes -----------------------------------------------------------------

    def follow_items(self, items: pd.DataFrame) -> None:
        """Apply validated, upserted items' hidden/stock/category to the items the artifact knows."""
        idx = self.artifact.item_ids.indices(items["item_id"].astype(str))
        known = idx >= 0
        rows = items[known]
        hidden = rows["hidden"].fillna(False).to_numpy(dtype=bool)
        sold_out = rows["stock"].fillna(1).to_numpy(dtype=float) <= 0
        self.available[idx[known]] = ~(hidden | sold_out)
        self.categories[idx[known]] = rows["category"].fillna("").astype(str).to_numpy(dtype=object)
        self._in_category.clear()

    def sync_catalogue(self, items: pd.DataFrame) -> None:
        """Take availability and categories from the whole current catalogue (when there is one):
        items missing from it are withdrawn."""
        if not len(items):
            return
        listed = self.artifact.item_ids.indices(items["item_id"].astype(str))
        self.available[np.setdiff1d(np.arange(len(self.available)), listed)] = False
        self.follow_items(items)

    def withdraw_items(self, item_ids: Iterable[str]) -> None:
        idx = self.artifact.item_ids.indices(item_ids)
        self.available[idx[idx >= 0]] = False

    # ---- helpers ------------------------------------------------------------------------------

    def _popular(
        self, k: int, category: str | None, blocked: np.ndarray, reason: str
    ) -> list[Recommendation]:
        scores = np.where(self.available, self.popularity, -np.inf).astype(np.float32)
        candidates = self._candidates(category)
        if candidates is not None:
            keep = np.full(scores.shape, -np.inf, dtype=np.float32)
            keep[candidates] = 0.0
            scores += keep
        scores[blocked[blocked >= 0]] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        order = order[np.isfinite(scores[order])]
        recs = Recs(item_idx=order[None, :], scores=scores[order][None, :])
        return self._answers(recs, reason, source=POPULAR)

    def _unavailable(self, blocked: np.ndarray) -> np.ndarray:
        return np.concatenate([np.flatnonzero(~self.available), blocked[blocked >= 0]])

    def _candidates(self, category: str | None) -> np.ndarray | None:
        """Item indices whose category path is `category` or lies under it; None for no filter."""
        if not category:
            return None
        prefix = category.strip(CATEGORY_SEPARATOR)
        found = self._in_category.get(prefix)
        if found is None:
            paths = pd.Series(self.categories, dtype=object).str.strip(CATEGORY_SEPARATOR)
            match = (paths == prefix) | paths.str.startswith(prefix + CATEGORY_SEPARATOR)
            found = np.flatnonzero(match.to_numpy(dtype=bool))
            if len(self._in_category) >= MAX_CACHED_CATEGORIES:
                self._in_category.clear()
            self._in_category[prefix] = found
        return found

    def _answers(self, recs: Recs, reason: str, source: str | None = None) -> list[Recommendation]:
        item_ids = self.artifact.item_ids
        sources = recs.reasons[0] if recs.reasons else None
        return [
            Recommendation(
                item_id=item_ids.id(i),
                score=float(s),
                reason=reason,
                source=source or (sources[j] if sources else POPULAR),
            )
            for j, (i, s) in enumerate(recs.row(0))
        ]
