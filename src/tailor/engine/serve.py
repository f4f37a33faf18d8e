"""Answering from one loaded artifact: id maps, the blend of its models and the catalogue masks.

The request path crosses the id maps once: the user's recent events (read fresh from the store by
the engine) become item indices, the blend scores them, and the masks remove what must not be shown:
seen, disliked and excluded items, hidden or sold-out items, and items outside the asked category.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
SCORING_CHUNK = 256  # users scored at once: bounds the (users x items) score matrices


@dataclass(frozen=True)
class History:
    items: np.ndarray  # item_idx the models score from, oldest first
    kinds: np.ndarray  # their kind codes
    blocked: np.ndarray  # item_idx with a negative kind weight (disliked)
    positive: bool  # whether any event had a positive weight, known item or not


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
        self.by_popularity = np.argsort(-self.popularity, kind="stable")
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
        user_ids: Sequence[str],
        recent: pd.DataFrame,
        k: int,
        exclude: Iterable[str],
        category: str | None,
    ) -> list[list[Recommendation]]:
        """Top k for each user from their recent events (`recent`: these users' latest events,
        oldest first per user); popular items, with the reason, for a user without usable history."""
        histories = self._histories(recent)
        excluded = self.artifact.item_ids.indices(exclude)
        answers: list[list[Recommendation]] = [[] for _ in user_ids]
        personal: list[int] = []
        for row, user_id in enumerate(user_ids):
            history = histories.get(user_id)
            if history is not None and len(history.items):
                personal.append(row)
                continue
            reason = UNKNOWN_HISTORY if history is not None and history.positive else NO_HISTORY
            blocked = excluded if history is None else np.concatenate([excluded, history.blocked])
            answers[row] = self._popular(k, category, blocked, reason)
        unavailable = self._unavailable(excluded)
        candidates = self._candidates(category)
        for start in range(0, len(personal), SCORING_CHUNK):
            rows = personal[start : start + SCORING_CHUNK]
            users = [histories[user_ids[r]] for r in rows]
            batch = UserBatch(
                user_idx=self.artifact.user_ids.indices(user_ids[r] for r in rows),
                histories=[u.items for u in users],
                kinds=[u.kinds for u in users],
            )
            masks = [np.concatenate([unavailable, u.blocked]) for u in users]
            recs = self.blend.recommend(batch, k, exclude=masks, candidates=candidates)
            for i, row in enumerate(rows):
                answers[row] = self._answers(recs, PERSONALIZED, row=i)
        return answers

    def _histories(self, recent: pd.DataFrame) -> dict[str, History]:
        """Per user: the known items with a positive kind weight (what models score from), the
        items with a negative one (masked, e.g. disliked), and whether any positive event exists."""
        idx = self.artifact.item_ids.indices(
            i if isinstance(i, str) else "" for i in recent["item_id"].tolist()
        )
        kinds = recent["kind"].tolist()
        weight = np.array([self.event_weights.get(kind, 0.0) for kind in kinds], dtype=np.float32)
        codes = np.array([self.kind_codes.get(kind, 0) for kind in kinds], dtype=np.int16)
        histories = {}
        for user_id, rows in recent.groupby("user_id", sort=False).indices.items():
            usable = rows[(idx[rows] >= 0) & (weight[rows] > 0)]
            disliked = rows[(idx[rows] >= 0) & (weight[rows] < 0)]
            histories[str(user_id)] = History(
                items=idx[usable],
                kinds=codes[usable],
                blocked=idx[disliked],
                positive=bool((weight[rows] > 0).any()),
            )
        return histories

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
        allowed = self.available.copy()
        allowed[blocked[blocked >= 0]] = False
        candidates = self._candidates(category)
        if candidates is not None:
            in_category = np.zeros_like(allowed)
            in_category[candidates] = True
            allowed &= in_category
        top = self.by_popularity[allowed[self.by_popularity]][:k]
        recs = Recs(item_idx=top[None, :], scores=self.popularity[top][None, :])
        return self._answers(recs, reason, source=POPULAR)

    def _unavailable(self, blocked: np.ndarray) -> np.ndarray:
        return np.concatenate([np.flatnonzero(~self.available), blocked[blocked >= 0]])

    def _candidates(self, category: str | None) -> np.ndarray | None:
        """Item indices whose category path is `category` or lies under it; None for no filter.
        The filter is normalised like stored paths: blanks around levels and empty levels dropped."""
        if not category:
            return None
        levels = (level.strip() for level in category.split(CATEGORY_SEPARATOR))
        prefix = CATEGORY_SEPARATOR.join(level for level in levels if level)
        found = self._in_category.get(prefix)
        if found is None:
            paths = pd.Series(self.categories, dtype=object)
            match = (paths == prefix) | paths.str.startswith(prefix + CATEGORY_SEPARATOR)
            found = np.flatnonzero(match.to_numpy(dtype=bool))
            if len(self._in_category) >= MAX_CACHED_CATEGORIES:
                self._in_category.clear()
            self._in_category[prefix] = found
        return found

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
