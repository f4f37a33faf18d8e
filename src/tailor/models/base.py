"""The one interface every recommender implements.

A model implements only `_fit(data)` and `_score(users) -> (n_users, n_items)`, and optionally
`_similar(items) -> (n_items_queried, n_items)`. This base class does the rest: top-k selection,
masking of seen and excluded items, candidate restriction, and saving/loading without pickle.

Fitted state lives in attributes ending in `_`. `save` writes the params as JSON and every fitted
numpy array or sparse matrix to one `.npz`; scalars and lists go to JSON. A model whose state is
something else (a torch module) overrides `_get_state` / `_set_state`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict

from tailor.data.dataset import Dataset
from tailor.errors import ArtifactError, NotFittedError, UnsupportedError
from tailor.types import Recs, UserBatch

PARAMS_FILE = "params.json"
ARRAYS_FILE = "arrays.npz"
_SPARSE_PARTS = ("data", "indices", "indptr", "shape")


class Params(BaseModel):
    """Base of every model's hyperparameters: frozen, typed, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Recommender(ABC):
    Params: ClassVar[type[Params]] = Params
    name: ClassVar[str]
    supports_similar_items: ClassVar[bool] = False
    handles_cold_items: ClassVar[bool] = False

    def __init__(self, params: Params | None = None, **kwargs: Any) -> None:
        if params is not None and kwargs:
            raise TypeError("pass either a Params object or keyword arguments, not both")
        self.params = params if params is not None else self.Params(**kwargs)
        self.n_items_: int | None = None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"

    # ---- what a model implements ---------------------------------------------------------------

    @abstractmethod
    def _fit(self, data: Dataset) -> None: ...

    @abstractmethod
    def _score(self, users: UserBatch) -> np.ndarray:
        """Scores of every item for every user in the batch: (len(users), n_items) float32."""

    def _similar(self, items: np.ndarray) -> np.ndarray:
        """Similarity of every item to each queried item: (len(items), n_items)."""
        raise UnsupportedError(f"{type(self).__name__} does not support similar items")

    def similarity_vectors(self) -> np.ndarray | None:
        """(n_items, dim) item vectors whose cosine is `_similar`, for the models built on them:
        a caller relating a few items multiplies their rows instead of whole similarity rows."""
        return None

    # ---- the public grammar --------------------------------------------------------------------

    def fit(self, data: Dataset) -> Self:
        self._fit(data)
        self.n_items_ = data.n_items
        return self

    @property
    def is_fitted(self) -> bool:
        return self.n_items_ is not None

    def recommend(
        self,
        users: UserBatch,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: np.ndarray | None = None,
        exclude: Sequence[np.ndarray] | np.ndarray | None = None,
    ) -> Recs:
        """The top-k items for each user.

        `candidates` restricts the answer to those item indices (shared by all users). `exclude`
        removes items: one array for all users, or one array per user. With `exclude_seen`, items
        in a user's history are removed too.
        """
        self._check_fitted()
        scores = np.array(self._score(users), dtype=np.float32, copy=True)
        if exclude_seen:
            _mask_rows(scores, users.histories)
        if exclude is not None:
            if isinstance(exclude, np.ndarray) and exclude.ndim == 1:
                scores[:, exclude[exclude < scores.shape[1]]] = -np.inf
            else:
                _mask_rows(scores, exclude)
        if candidates is not None:
            keep = np.zeros(scores.shape[1], dtype=bool)
            candidates = np.asarray(candidates, dtype=np.int64)
            keep[candidates[(candidates >= 0) & (candidates < scores.shape[1])]] = True
            scores[:, ~keep] = -np.inf
        return top_k(scores, k)

    def similar_items(self, items: Sequence[int] | np.ndarray, k: int = 10) -> Recs:
        """The k items most similar to each queried item, the item itself left out."""
        self._check_fitted()
        if not self.supports_similar_items:
            raise UnsupportedError(f"{type(self).__name__} does not support similar items")
        items = np.asarray(items, dtype=np.int64)
        scores = np.array(self._similar(items), dtype=np.float32, copy=True)
        scores[np.arange(len(items)), items] = -np.inf
        return top_k(scores, k)

    # ---- persistence ---------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays, scalars = _split_state(self._get_state())
        (path / PARAMS_FILE).write_text(
            json.dumps(
                {
                    "model": type(self).__name__,
                    "params": self.params.model_dump(mode="json"),
                    "state": scalars,
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
        np.savez(path / ARRAYS_FILE, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Self:
        path = Path(path)
        try:
            meta = json.loads((path / PARAMS_FILE).read_text(encoding="utf-8"))
            with np.load(path / ARRAYS_FILE, allow_pickle=False) as npz:
                arrays = {name: npz[name] for name in npz.files}
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot load model from {path}: {exc}") from exc
        if meta.get("model") != cls.__name__:
            raise ArtifactError(f"{path} holds a {meta.get('model')}, not a {cls.__name__}")
        model = cls(cls.Params(**meta["params"]))
        model._set_state(_join_state(arrays, meta["state"]))
        return model

    def _get_state(self) -> dict[str, Any]:
        """Fitted attributes (names ending in `_`)."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _set_state(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted: call fit() or load() first")


_TOP_K_ROWS = 32  # rows ranked at once: the key buffers stay small and are reused


def top_k(scores: np.ndarray, k: int) -> Recs:
    """Best-first top-k of each row; -inf entries are never returned (padded with -1 instead).

    Equal scores rank by ascending item index (NaN ranks below -inf). Each score and its column
    are packed into one unique int64 key, so the selection never meets ties: numpy's partition
    slows down many-fold on heavily tied rows such as a popularity ranking.
    """
    n_rows, n_cols = scores.shape
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    kk = min(k, n_cols)
    idx = np.empty((n_rows, kk), dtype=np.int64)
    keys = _RankKeys(min(n_rows, _TOP_K_ROWS), n_cols)
    for start in range(0, n_rows, _TOP_K_ROWS):
        chunk = keys(scores[start : start + _TOP_K_ROWS])
        if kk < n_cols:
            chunk.partition(n_cols - kk, axis=1)
        best_keys = np.sort(chunk[:, n_cols - kk :], axis=1)[:, ::-1]
        idx[start : start + _TOP_K_ROWS] = (n_cols - 1) - (best_keys & 0xFFFFFFFF)
    best = np.take_along_axis(scores, idx, axis=1).astype(np.float32)
    idx[np.isneginf(best)] = -1
    if kk < k:
        idx = np.pad(idx, ((0, 0), (0, k - kk)), constant_values=-1)
        best = np.pad(best, ((0, 0), (0, k - kk)), constant_values=-np.inf)
    return Recs(item_idx=idx, scores=best)


class _RankKeys:
    """int64 keys ordered like (score, -column): the float32 bits mapped to an order-preserving
    int32 in the high half, the reversed column in the low half. Buffers are reused from chunk
    to chunk (fresh multi-MB arrays cost more in page faults than the arithmetic)."""

    def __init__(self, rows: int, n_cols: int) -> None:
        self.values = np.empty((rows, n_cols), dtype=np.float32)
        self.flip = np.empty((rows, n_cols), dtype=np.int32)
        self.keys = np.empty((rows, n_cols), dtype=np.int64)
        self.columns = np.arange(n_cols - 1, -1, -1, dtype=np.int64)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        n = len(scores)
        values, flip, keys = self.values[:n], self.flip[:n], self.keys[:n]
        np.add(scores, 0.0, out=values, casting="unsafe")  # -0.0 becomes 0.0, which it equals
        bits = values.view(np.int32)
        np.right_shift(bits, 31, out=flip)
        flip &= 0x7FFFFFFF
        bits ^= flip  # negative floats: reverse the order of their magnitude bits
        nan = np.isnan(scores)
        if nan.any():
            bits[nan] = np.iinfo(np.int32).min
        np.left_shift(bits, 32, out=keys, dtype=np.int64)
        keys |= self.columns
        return keys


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """The rows scaled to length 1 (zero rows stay zero)."""
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def cosine_rows(vectors: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Cosine of the queried items' vectors with every item's: (len(items), n_items)."""
    unit = unit_rows(vectors)
    return unit[items] @ unit.T


def _mask_rows(scores: np.ndarray, per_row: Sequence[np.ndarray]) -> None:
    n_cols = scores.shape[1]
    for row, items in enumerate(per_row):
        items = np.asarray(items, dtype=np.int64)
        scores[row, items[(items >= 0) & (items < n_cols)]] = -np.inf


def _split_state(state: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    arrays: dict[str, np.ndarray] = {}
    scalars: dict[str, Any] = {}
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            arrays[key] = value
        elif sp.issparse(value):
            csr = sp.csr_matrix(value)
            for part in _SPARSE_PARTS:
                arrays[f"{key}.{part}"] = np.asarray(getattr(csr, part))
            scalars[key] = {"__sparse__": True}
        else:
            scalars[key] = value
    return arrays, scalars


def _join_state(arrays: dict[str, np.ndarray], scalars: dict[str, Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for key, value in scalars.items():
        if isinstance(value, dict) and value.get("__sparse__"):
            data, indices, indptr, shape = (arrays.pop(f"{key}.{part}") for part in _SPARSE_PARTS)
            state[key] = sp.csr_matrix((data, indices, indptr), shape=tuple(shape))
        else:
            state[key] = value
    state.update(arrays)
    return state
