"""Rejections: which input row failed which field, and why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Rejection:
    row: int  # 0-based position in the validated input
    field: str
    reason: str


class Problems:
    """Rejections gathered column by column; one row may fail several fields."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self._parts: list[tuple[np.ndarray, str, str | np.ndarray]] = []
        self._settled = np.zeros(n_rows, dtype=bool)

    def settle(self, mask: np.ndarray, field: str, reason: str) -> None:
        """Reject these rows with one reason and report nothing more about them."""
        self.add(mask, field, reason)
        self._settled |= mask

    def add(
        self,
        mask: np.ndarray | pd.Series,
        field: str,
        reason: str | Callable[[Any], str],
        values: pd.Series | None = None,
    ) -> None:
        """Reject the rows in `mask`; a callable reason is applied to each rejected row's value."""
        rows = np.flatnonzero(np.asarray(mask, dtype=bool) & ~self._settled)
        if len(rows) == 0:
            return
        if isinstance(reason, str):
            self._parts.append((rows, field, reason))
        else:
            assert values is not None
            reasons = np.array([reason(v) for v in values.iloc[rows]], dtype=object)
            self._parts.append((rows, field, reasons))

    def mask(self, field: str | None = None) -> np.ndarray:
        """True for every rejected row (only rows rejected for `field` when given)."""
        bad = np.zeros(self.n_rows, dtype=bool)
        for rows, rejected_field, _ in self._parts:
            if field is None or field == rejected_field:
                bad[rows] = True
        return bad

    def rejections(self) -> list[Rejection]:
        """All rejections ordered by row, then in the order the fields were checked."""
        out: list[tuple[int, int, Rejection]] = []
        for order, (rows, field, reason) in enumerate(self._parts):
            reasons = [reason] * len(rows) if isinstance(reason, str) else reason.tolist()
            out.extend(
                (r, order, Rejection(r, field, why)) for r, why in zip(rows.tolist(), reasons)
            )
        out.sort(key=lambda t: (t[0], t[1]))
        return [r for _, _, r in out]
