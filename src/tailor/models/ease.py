"""EASE (Steck, WWW 2019): a closed-form item-item linear model with a zero diagonal.

B = I - P / diag(P) with P = (X'X + l2 I)^-1, computed densely in float32 through a Cholesky
factorisation (X'X + l2 I is symmetric positive definite), which costs half the flops of an LU
inverse. A user is scored as history row x B, so new events count without a refit.

`similar_items` uses the rows of B: row i is exactly the score a user whose history is only
item i would get, so "similar" and "recommended after i" agree and nothing else is stored.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from scipy.linalg import lapack

from tailor.data.dataset import Dataset
from tailor.errors import UnsupportedError
from tailor.models.history import HistoryModel, HistoryParams
from tailor.types import UserBatch

_SYMMETRIZE_ROWS = 1024


class EASEParams(HistoryParams):
    l2: float = Field(100.0, gt=0)
    """The ridge penalty lambda on B."""
    max_items: int = Field(20_000, ge=1)
    """Refuse larger catalogues: the dense inverse needs 4 * n_items^2 bytes, several times over."""


class EASE(HistoryModel):
    name = "ease"
    Params = EASEParams
    params: EASEParams
    supports_similar_items = True

    def _fit(self, data: Dataset) -> None:
        if data.n_items > self.params.max_items:
            gb = 4 * data.n_items**2 / 1e9
            raise UnsupportedError(
                f"EASE needs a dense {data.n_items:,} x {data.n_items:,} inverse "
                f"(~{gb:.1f} GB per copy) and max_items is {self.params.max_items:,}: "
                "raise max_items or use itemknn/als"
            )
        matrix = self._train_matrix(data)
        gram = (matrix.T @ matrix).toarray().astype(np.float32)
        gram[np.diag_indices_from(gram)] += self.params.l2
        precision = _spd_inverse(gram)
        weights = precision / -np.diag(precision)
        weights[np.diag_indices_from(weights)] = 0.0
        self.weights_ = weights

    def _score(self, users: UserBatch) -> np.ndarray:
        return np.asarray(self._history_matrix(users) @ self.weights_, dtype=np.float32)

    def _similar(self, items: np.ndarray) -> np.ndarray:
        return self.weights_[items]


def _spd_inverse(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive definite float32 matrix, computed in place."""
    # A C-ordered symmetric matrix is its own Fortran-ordered transpose: LAPACK works on a.T in
    # place, and its "lower" triangle is our upper one.
    factor, info = lapack.spotrf(a.T, lower=True, overwrite_a=True, clean=False)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factorisation failed (info={info})")
    inverse, info = lapack.spotri(factor, lower=True, overwrite_c=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse from the Cholesky factor failed (info={info})")
    result = inverse.T
    _fill_lower_from_upper(result)
    return result


def _fill_lower_from_upper(a: np.ndarray) -> None:
    """Copy the upper triangle onto the lower one, in row blocks to bound the extra memory."""
    n = a.shape[0]
    for start in range(0, n, _SYMMETRIZE_ROWS):
        stop = min(start + _SYMMETRIZE_ROWS, n)
        rows = np.arange(start, stop)[:, None]
        below = np.arange(stop)[None, :] < rows
        a[start:stop, :stop] = np.where(below, a[:stop, start:stop].T, a[start:stop, :stop])
