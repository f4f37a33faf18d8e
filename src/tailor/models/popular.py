"""Non-personalised baselines: all-time popularity and recent, decayed popularity ("trending").

Every user gets the same scores; the history only matters through `exclude_seen`.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from tailor.data.dataset import Dataset
from tailor.models.base import Params, Recommender
from tailor.types import UserBatch

_MS_PER_DAY = 86_400_000.0


class _ItemPrior(Recommender):
    """A model whose scores are one vector over items, shared by all users."""

    def _score(self, users: UserBatch) -> np.ndarray:
        return np.broadcast_to(self.scores_, (len(users), len(self.scores_)))


class PopularParams(Params):
    weighted: bool = False
    """Sum the event-kind weights instead of counting the distinct users who interacted."""


class Popular(_ItemPrior):
    """Items ranked by how many users interacted with them (or by their summed event weights)."""

    name = "popular"
    Params = PopularParams
    params: PopularParams

    def _fit(self, data: Dataset) -> None:
        if self.params.weighted:
            counts = np.asarray(data.matrix.sum(axis=0)).ravel()
        else:
            counts = data.item_counts
        self.scores_ = counts.astype(np.float32)


class TrendingParams(Params):
    window_days: float | None = Field(7.0, gt=0)
    """Only events in the last `window_days` of the data count (None: no day window)."""
    window_fraction: float | None = Field(None, gt=0, le=1)
    """Alternatively, the last fraction of the data's time span; set window_days=None to use it."""
    half_life_days: float | None = Field(1.0, gt=0)
    """An event's weight halves every `half_life_days` before the newest event (None: no decay)."""

    @model_validator(mode="after")
    def _one_window(self) -> TrendingParams:
        if self.window_days is not None and self.window_fraction is not None:
            raise ValueError("set either window_days or window_fraction, not both")
        return self


class Trending(_ItemPrior):
    """Recent popularity: event weights inside a window before the newest event, decayed by age.

    Time is the data's own (its newest event), not the wall clock, so a refit on old data gives
    the same answer.
    """

    name = "trending"
    Params = TrendingParams
    params: TrendingParams

    def _fit(self, data: Dataset) -> None:
        weights = np.zeros(0)
        if data.n_events:
            newest, oldest = int(data.ts.max()), int(data.ts.min())
            age_days = (newest - data.ts) / _MS_PER_DAY
            weights = data.kind_weights[data.kind_codes].astype(np.float64)
            if self.params.window_days is not None:
                weights[age_days > self.params.window_days] = 0.0
            elif self.params.window_fraction is not None:
                span_days = (newest - oldest) / _MS_PER_DAY
                weights[age_days > self.params.window_fraction * span_days] = 0.0
            if self.params.half_life_days is not None:
                weights *= 0.5 ** (age_days / self.params.half_life_days)
        scores = np.bincount(
            data.items, weights=np.clip(weights, 0.0, None), minlength=data.n_items
        )
        self.scores_ = scores.astype(np.float32)
