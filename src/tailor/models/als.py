"""Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) with the `implicit` library.

Only the item factors are kept. A user's factor is solved from the user's history at scoring
time (one least-squares solve with the item factors fixed, the same step ALS takes when fitting),
so a user whose events arrived after training is scored without a refit, and a known user is
scored from the history in the batch, not from a stale row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field
from threadpoolctl import threadpool_limits

from tailor.data.dataset import Dataset
from tailor.models.history import HistoryModel, HistoryParams
from tailor.types import UserBatch


class ALSParams(HistoryParams):
    factors: int = Field(64, ge=1)
    regularization: float = Field(0.01, ge=0)
    alpha: float = Field(1.0, gt=0)
    """Confidence of an interaction = alpha x its weight."""
    iterations: int = Field(15, ge=1)
    random_state: int = 0
    num_threads: int = Field(0, ge=0)
    """Threads for fitting and solving user factors; 0 uses every core."""


class ALS(HistoryModel):
    name = "als"
    Params = ALSParams
    params: ALSParams
    supports_similar_items = True

    def __init__(self, params: ALSParams | None = None, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self._solver: Any = None

    def _fit(self, data: Dataset) -> None:
        matrix = self._train_matrix(data)
        solver = self._new_solver()
        with threadpool_limits(
            1, "blas"
        ):  # implicit parallelises itself; nested BLAS threads thrash
            solver.fit(matrix, show_progress=False)
        self.item_factors_ = np.ascontiguousarray(solver.item_factors, dtype=np.float32)
        self._solver = None

    def _score(self, users: UserBatch) -> np.ndarray:
        return self.user_factors(users) @ self.item_factors_.T

    def user_factors(self, users: UserBatch) -> np.ndarray:
        """(len(users), factors): each user's factor solved from the history in the batch."""
        solver = self._ready_solver()
        with threadpool_limits(1, "blas"):
            factors = solver.recalculate_user(np.arange(len(users)), self._history_matrix(users))
        return np.asarray(factors, dtype=np.float32).reshape(len(users), -1)

    def _similar(self, items: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(self.item_factors_, axis=1) + 1e-12
        unit = self.item_factors_ / norms[:, None]
        return unit[items] @ unit.T

    def _new_solver(self) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        p = self.params
        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=p.factors,
                regularization=p.regularization,
                alpha=p.alpha,
                iterations=p.iterations,
                random_state=p.random_state,
                num_threads=p.num_threads,
            )

    def _ready_solver(self) -> Any:
        """An implicit model holding the fitted item factors (rebuilt after `load`)."""
        if self._solver is None:
            self._solver = self._new_solver()
            self._solver.item_factors = self.item_factors_
        return self._solver
