"""Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008) with the `implicit` library.

Only the item factors are kept. A user's factor is solved from the user's history at scoring
time (one least-squares solve with the item factors fixed, the same step ALS takes when fitting),
so a user whose events arrived after training is scored without a refit, and a known user is
scored from the history in the batch, not from a stale row.

The solve is implicit's own formulation, done here in numpy so that scoring one user costs a
single small (factors x factors) system instead of a call into implicit's thread pool: with
confidence c = alpha x weight for each item i in the history,
    (YtY + regularization I + sum_i (c_i - 1) y_i y_i^T) x = sum_i c_i y_i.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import scipy.sparse as sp
from pydantic import Field
from threadpoolctl import ThreadpoolController, threadpool_limits

from tailor.data.dataset import Dataset
from tailor.models.base import cosine_rows
from tailor.models.history import HistoryModel, HistoryParams
from tailor.types import UserBatch

_SOLVE_BUDGET = 1 << 16  # users x padded history length solved at once (x factors floats)
_WIDTH_SPREAD = 1.5  # a group's longest history at most this times its shortest: little padding
_BLAS = ThreadpoolController()  # found once: a fresh `threadpool_limits` costs ~0.15 ms a call
_BLAS_LIBS = _BLAS.select(user_api="blas").lib_controllers


class ALSParams(HistoryParams):
    factors: int = Field(64, ge=1)
    regularization: float = Field(0.01, ge=0)
    alpha: float = Field(1.0, gt=0)
    """Confidence of an interaction = alpha x its weight."""
    iterations: int = Field(15, ge=1)
    random_state: int = 0
    num_threads: int = Field(0, ge=0)
    """Threads for fitting; 0 uses every core."""


class ALS(HistoryModel):
    name = "als"
    Params = ALSParams
    params: ALSParams
    supports_similar_items = True

    def _fit(self, data: Dataset) -> None:
        matrix = self._train_matrix(data)
        solver = self._new_solver()
        with threadpool_limits(1, "blas"):  # implicit parallelises; nested BLAS threads thrash
            solver.fit(matrix, show_progress=False)
        self.item_factors_ = np.ascontiguousarray(solver.item_factors, dtype=np.float32)
        self._keep_gram()

    def _keep_gram(self) -> None:
        y = self.item_factors_.astype(np.float64)
        self.gram_ = y.T @ y + self.params.regularization * np.eye(y.shape[1])
        self.gram_inverse_ = np.linalg.inv(self.gram_)

    def _set_state(self, state: dict[str, Any]) -> None:
        super()._set_state(state)
        if "gram_" not in state:  # an artifact saved before the Gram matrix was kept
            self._keep_gram()

    def _score(self, users: UserBatch) -> np.ndarray:
        return self.user_factors(users) @ self.item_factors_.T

    def user_factors(self, users: UserBatch) -> np.ndarray:
        """(len(users), factors): each user's factor solved from the history in the batch."""
        history = self._history_matrix(users)
        out = np.zeros((len(users), self.item_factors_.shape[1]), dtype=np.float32)
        lengths = np.diff(history.indptr)
        with _one_blas_thread():  # threads only thrash on these small systems
            for rows in _chunks(np.argsort(lengths, kind="stable"), lengths):
                out[rows] = self._solve(history, rows, int(lengths[rows[-1]]))
        return out

    def _solve(self, history: sp.csr_matrix, rows: np.ndarray, width: int) -> np.ndarray:
        """Factors of `rows`, their histories padded to `width` items (padding weighs 0)."""
        if width == 0:
            return np.zeros((len(rows), self.gram_.shape[0]))
        offsets = np.arange(width)
        present = offsets < np.diff(history.indptr)[rows, None]
        at = np.where(present, history.indptr[rows, None] + offsets, 0)
        confidence = np.where(present, self.params.alpha * history.data[at], 0.0)
        y = self.item_factors_[history.indices[at]].astype(np.float64)  # (users, width, factors)
        extra = np.where(present, confidence - 1.0, 0.0)
        b = np.einsum("uw,uwf->uf", confidence, y)
        if width >= self.gram_.shape[0]:
            a = self.gram_ + np.matmul(y.transpose(0, 2, 1), y * extra[..., None])
            return np.linalg.solve(a, b[..., None])[..., 0]
        return self._solve_short(y, extra, b)

    def _solve_short(self, y: np.ndarray, extra: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The same solve by the Woodbury identity, a (width x width) system per user: with
        G = YtY + regularization I and E = diag(extra), x = G^-1 b - (Y G^-1)^T z where
        (I + E Y G^-1 Y^T) z = E Y G^-1 b."""
        base = b @ self.gram_inverse_
        projected = (y.reshape(-1, y.shape[2]) @ self.gram_inverse_).reshape(y.shape)
        system = extra[..., None] * np.einsum("uwf,uvf->uwv", y, projected, optimize=True)
        system += np.eye(y.shape[1])
        rhs = extra * np.einsum("uwf,uf->uw", y, base)
        z = np.linalg.solve(system, rhs[..., None])[..., 0]
        return base - np.einsum("uwf,uw->uf", projected, z)

    def _similar(self, items: np.ndarray) -> np.ndarray:
        return cosine_rows(self.item_factors_, items)

    def similarity_vectors(self) -> np.ndarray:
        return self.item_factors_

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


def _one_blas_thread() -> AbstractContextManager[object]:
    """One BLAS thread for the block. Nothing is set (or paid: ~80 us for three OpenBLAS
    copies) when every pool has one thread already, as in the service."""
    if all(lib.get_num_threads() == 1 for lib in _BLAS_LIBS):
        return nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


def _chunks(by_length: np.ndarray, lengths: np.ndarray) -> Iterator[np.ndarray]:
    """Users in order of history length, grouped so each group's padded size fits the budget."""
    widths = np.maximum(lengths[by_length], 1)
    start = 0
    while start < len(by_length):
        padded = np.arange(1, len(by_length) - start + 1) * widths[start:]  # nondecreasing
        fits = (padded <= _SOLVE_BUDGET) & (widths[start:] <= _WIDTH_SPREAD * widths[start])
        stop = start + max(int(np.count_nonzero(fits)), 1)
        yield by_length[start:stop]
        start = stop
