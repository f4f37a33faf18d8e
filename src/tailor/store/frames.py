"""Crossing the database boundary: frame columns to bind values, fetched rows back to frames."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from tailor.errors import InvalidInputError


def bind_columns(
    frame: pd.DataFrame,
    columns: Sequence[str],
    required: Iterable[str] = (),
    integers: Iterable[str] = (),
) -> list[list[Any]]:
    """The frame's `columns` as lists of plain Python values, missing values as None.

    An absent optional column becomes all None; an absent `required` column is an error.
    `integers` are converted to whole numbers (1.0 -> 1, 1.5 -> InvalidInputError).
    """
    required, integers = set(required), set(integers)
    absent = sorted(name for name in required if name not in frame.columns)
    if absent:
        raise InvalidInputError(f"missing required columns: {absent}", field=absent[0])
    values = []
    for name in columns:
        column = frame[name] if name in frame.columns else None
        if column is None or column.isna().all():
            values.append([None] * len(frame))
            continue
        if name in integers and column.dtype.kind not in "iu":
            column = _as_integers(column, name)
        values.append(_plain(column))
    return values


def _as_integers(column: pd.Series, name: str) -> pd.Series:
    try:
        return column.astype("Int64")
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"column {name!r} must hold whole numbers: {exc}", field=name
        ) from exc


def _plain(column: pd.Series) -> list[Any]:
    if isinstance(column.dtype, np.dtype) and column.dtype.kind in "iub":
        return column.tolist()
    return column.to_numpy(dtype=object, na_value=None).tolist()


# pandas' default "str" dtype (Arrow storage, NaN for missing), built directly: converting
# through the dtype's name costs more than the data on the request path (50-row frames).
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def rows_to_frame(
    rows: Sequence[Sequence[Any]], columns: Sequence[str], dtypes: dict[str, str]
) -> pd.DataFrame:
    """A frame from fetched rows, typed by `dtypes` (see `tailor.store.schema`)."""
    data: dict[str, Any] = {}
    for position, name in enumerate(columns):
        values = [row[position] for row in rows]
        dtype = dtypes[name]
        if dtype == "str":
            strings = pa.array(values, type=pa.large_string())
            data[name] = pd.arrays.ArrowStringArray(strings, dtype=_STR)
        elif dtype == "json":
            data[name] = pd.Series(values, dtype=object)
        elif dtype == "Int64":
            data[name] = pd.array(values, dtype="Int64")
        else:
            data[name] = np.array(values, dtype=dtype)
    return pd.DataFrame(data, copy=False)
