"""Vectorised checks of one column each, shared by the three table validators.

Every check takes a raw column (any dtype: what pandas, pyarrow or a list of JSON objects gave),
records the rows it rejects in a `Problems` collector, and returns the column converted to its
canonical dtype, with missing (NA) where the value was missing or rejected.

`parse_strings=True` is for text formats (CSV cells): numbers, booleans, lists and objects written
as strings are parsed. The HTTP path leaves it off, so a string price is a wrong type there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tailor.ingest.problems import Problems
from tailor.types import CATEGORY_SEPARATOR

# Epoch numbers below this are seconds, at or above it milliseconds: 1e11 s lies in the year 5138,
# while 1e11 ms is March 1973, so shop data is never ambiguous.
SECONDS_BELOW = 1e11
MAX_TS_MS = 7_258_118_400_000  # 2200-01-01T00:00:00Z: later values are almost surely wrong units
NUL = "\x00"  # PostgreSQL's text and jsonb cannot hold it
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")  # NUL as JSON writes it, not text "\\u0000"
_INT64_LIMIT = 2**63  # Python ints beyond int64 stay Python objects
# Whole numbers in JSON (integer ids, stock) stay below 2**53: beyond it a double, and so many JSON
# parsers, cannot tell neighbours apart. Send bigger ids as strings.
SAFE_INTEGER = 2**53
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f", ""})
_DTYPE_NAMES = {
    "i": "int",
    "u": "int",
    "f": "float",
    "b": "bool",
    "M": "datetime",
    "m": "timedelta",
}


def _got(prefix: str) -> Callable[[Any], str]:
    return lambda value: f"{prefix}, got {type(value).__name__}"


def _shown(prefix: str) -> Callable[[Any], str]:
    return lambda value: f"{prefix}: {value!r}"


def _is_arrow_text(dtype: pa.DataType) -> bool:
    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype)


def normalise(col: pd.Series) -> pd.Series:
    """Give an object column a real dtype when all its values share one (the fast paths below);
    categorical and Arrow-backed text columns become plain `str` or object columns first."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    elif isinstance(col.dtype, pd.ArrowDtype) and _is_arrow_text(col.dtype.pyarrow_dtype):
        return col.astype("str")
    if col.dtype != object:
        return col
    inferred = pd.api.types.infer_dtype(col, skipna=True)
    if inferred == "empty" and _holds_nan(col):
        return col  # a NaN sent on purpose, which the numeric checks reject
    if inferred in ("string", "empty"):
        return col.astype("str")
    if inferred == "integer" and _fits_int64(col):
        return col.astype("Int64")
    if inferred in ("floating", "mixed-integer-float") and not _holds_nan(col):
        return col.astype("float64")
    return col


def _fits_int64(col: pd.Series) -> bool:
    values = col.dropna()
    return bool(values.empty or (values.min() >= -_INT64_LIMIT and values.max() < _INT64_LIMIT))


def _holds_nan(col: pd.Series) -> bool:
    """Whether an object column holds a float NaN, not just None (JSON null)."""
    nulls = np.equal(col.to_numpy(), None).sum()
    return bool(col.isna().sum() > nulls)


def _instances(col: pd.Series, types: tuple[type, ...]) -> np.ndarray:
    """Where a non-null value of an object column is one of `types` (a bool is never an int)."""
    return col.map(lambda v: isinstance(v, types) and not isinstance(v, (bool, np.bool_))).to_numpy(
        dtype=bool
    )


def _blank(col: pd.Series) -> np.ndarray:
    """Missing, None, NaN or the empty string."""
    na = col.isna().to_numpy()
    if isinstance(col.dtype, pd.StringDtype):
        return na | (col.str.len() == 0).fillna(True).to_numpy(dtype=bool)
    if col.dtype == object:
        return na | col.map(lambda v: isinstance(v, str) and v == "").to_numpy(dtype=bool)
    return na


def _ints_to_str(col: pd.Series) -> pd.Series:
    return col.astype("Int64").astype("str")


def _stringify(col: pd.Series, field: str, problems: Problems, allow_int: bool) -> pd.Series:
    """The column as `str` dtype; wrong types are rejected and become NA."""
    if isinstance(col.dtype, pd.StringDtype):
        return col
    if allow_int and pd.api.types.is_integer_dtype(col.dtype):
        return _ints_to_str(col)
    expected = "a string or an integer" if allow_int else "a string"
    if allow_int and pd.api.types.is_float_dtype(col.dtype):
        whole = (col == np.floor(col)) & (col.abs() < SAFE_INTEGER)
        problems.add(col.notna() & ~whole, field, f"must be {expected} (below 2**53)")
        return _ints_to_str(col.where(whole))
    if col.dtype != object:
        got = _DTYPE_NAMES.get(col.dtype.kind, str(col.dtype))
        problems.add(col.notna(), field, f"must be {expected}, got {got}")
        return pd.Series(pd.NA, index=col.index, dtype="str")
    is_str = _instances(col, (str,))
    is_int = (
        col.map(_integer_id).notna().to_numpy() if allow_int else np.zeros(len(col), dtype=bool)
    )
    wrong = col.notna().to_numpy() & ~is_str & ~is_int
    problems.add(wrong, field, _got(f"must be {expected} (below 2**53)"), col)
    out = col.where(is_str | is_int).map(
        lambda v: v if isinstance(v, str) else _integer_id(v), na_action="ignore"
    )
    return out.astype("str")


def _integer_id(value: Any) -> str | None:
    """An integer id as text: below 2**53, where a double (and so JSON) still holds it exactly;
    a float holding a whole number counts (JSON's 7.0 is 7)."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if isinstance(value, (int, np.integer)) and abs(int(value)) < SAFE_INTEGER:
        return str(int(value))
    return None


def id_column(
    col: pd.Series,
    field: str,
    problems: Problems,
    *,
    max_length: int,
    required: np.ndarray | bool,
    required_reason: str = "missing",
) -> pd.Series:
    """Ids: strings or integers (converted to str), non-empty, at most `max_length` characters."""
    missing = _blank(col)
    required_mask = np.broadcast_to(np.asarray(required, dtype=bool), missing.shape)
    problems.add(missing & required_mask, field, required_reason)
    return _storable_text(
        _stringify(col.mask(missing), field, problems, allow_int=True), field, problems, max_length
    )


def text_column(col: pd.Series, field: str, problems: Problems, *, max_length: int) -> pd.Series:
    """Free text: a string of at most `max_length` characters; empty means missing."""
    out = _stringify(col.mask(_blank(col)), field, problems, allow_int=False)
    return _storable_text(out, field, problems, max_length)


def _storable_text(out: pd.Series, field: str, problems: Problems, max_length: int) -> pd.Series:
    """At most `max_length` characters and no NUL character, which PostgreSQL cannot store."""
    too_long = (out.str.len() > max_length).fillna(False).to_numpy(dtype=bool)
    problems.add(too_long, field, f"longer than {max_length} characters")
    has_nul = out.str.contains(NUL, regex=False).fillna(False).to_numpy(dtype=bool)
    problems.add(has_nul & ~too_long, field, "holds a NUL character (U+0000)")
    return out.mask(too_long | has_nul)


def choice_column(
    col: pd.Series, field: str, problems: Problems, known: Iterable[str]
) -> pd.Series:
    """A required string from a known set; the reason lists the known values."""
    known = sorted(known)
    missing = _blank(col)
    problems.add(missing, field, "missing")
    out = _stringify(col.mask(missing), field, problems, allow_int=False)
    unknown = out.notna().to_numpy() & ~out.isin(known).to_numpy()
    problems.add(unknown, field, _shown(f"unknown {field}; known: {', '.join(known)}; got"), out)
    return out.mask(unknown)


def _numbers_from_object(
    col: pd.Series, field: str, problems: Problems, parse_strings: bool
) -> pd.Series:
    is_num = _instances(col, (int, float, np.integer, np.floating))
    is_str = _instances(col, (str,))
    present = col.notna().to_numpy()
    allowed = is_num | is_str if parse_strings else is_num
    problems.add(present & ~allowed, field, _got("must be a number"), col)
    nums = pd.to_numeric(col.where(allowed), errors="coerce").astype("float64")
    unparsed = is_str & nums.isna().to_numpy() if parse_strings else np.zeros(len(col), dtype=bool)
    problems.add(unparsed, field, _shown("not a number"), col)
    # A NaN inside an object column was sent on purpose (a JSON null arrives as None).
    nan_sent = is_num & nums.isna().to_numpy()
    problems.add(nan_sent, field, "must be finite, got NaN")
    return nums


def number_column(
    col: pd.Series,
    field: str,
    problems: Problems,
    *,
    parse_strings: bool,
    minimum: float | None = None,
    integer: bool = False,
) -> pd.Series:
    """Numbers as float64 (Int64 when `integer`), missing as NA; NaN in a float column means missing."""
    if pd.api.types.is_bool_dtype(col.dtype):
        problems.add(col.notna(), field, "must be a number, got bool")
        nums = pd.Series(np.nan, index=col.index)
    elif pd.api.types.is_numeric_dtype(col.dtype):
        nums = col.astype("float64")
    elif isinstance(col.dtype, pd.StringDtype) and not parse_strings:
        problems.add(col.notna(), field, "must be a number, got str")
        nums = pd.Series(np.nan, index=col.index)
    elif isinstance(col.dtype, pd.StringDtype):
        texts = col.mask(_blank(col)).str.strip()
        nums = parse_floats(texts)
        problems.add(texts.notna() & nums.isna(), field, _shown("not a number"), col)
    else:
        nums = _numbers_from_object(col.astype(object), field, problems, parse_strings)
    values = nums.to_numpy(dtype="float64", na_value=np.nan)
    infinite = np.isinf(values)
    problems.add(infinite, field, "must be finite")
    values = np.where(infinite, np.nan, values)
    if minimum is not None:
        below = values < minimum
        problems.add(below, field, f"must be >= {minimum:g}")
        values = np.where(below, np.nan, values)
    if integer:
        fraction = ~np.isnan(values) & (values != np.floor(values))
        problems.add(fraction, field, "must be a whole number")
        too_big = np.abs(values) >= SAFE_INTEGER
        problems.add(too_big & ~fraction, field, "must be below 2**53")
        kept = np.where(fraction | too_big, np.nan, values)
        return pd.Series(kept, index=col.index).astype("Int64")
    return pd.Series(values, index=col.index)


def parse_floats(texts: pd.Series) -> pd.Series:
    """Numbers written as text, NaN where a text is not a number (Arrow's cast when all parse)."""
    try:
        cast = pc.cast(pa.array(texts, from_pandas=True), pa.float64())
        return pd.Series(cast.to_numpy(zero_copy_only=False), index=texts.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(texts, errors="coerce").astype("float64")


def _epoch_to_ms(values: pd.Series) -> pd.Series:
    seconds = values.abs() < SECONDS_BELOW
    return values.where(~seconds, values * 1000).round()


def _iso_to_ms(texts: pd.Series) -> pd.Series:
    """ISO-8601 strings (naive means UTC) or numeric strings to float ms; NaN where unparsable."""
    numeric = _epoch_to_ms(parse_floats(texts))
    rest = texts.where(numeric.isna())
    parsed = pd.to_datetime(rest, utc=True, format="ISO8601", errors="coerce")
    return numeric.fillna(_datetimes_to_ms(parsed))


def _datetimes_to_ms(col: pd.Series) -> pd.Series:
    col = col.dt.tz_convert("UTC") if col.dt.tz is not None else col.dt.tz_localize("UTC")
    ms = col.astype("datetime64[ms, UTC]").astype("int64").astype("float64")
    return ms.where(col.notna())


def _timestamps_from_object(col: pd.Series, field: str, problems: Problems) -> pd.Series:
    is_num = _instances(col, (int, float, np.integer, np.floating))
    is_str = _instances(col, (str,))
    is_time = col.map(
        lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat")
    )
    is_time = is_time.to_numpy(dtype=bool) & ~is_str & ~is_num
    problems.add(
        col.notna().to_numpy() & ~(is_num | is_str | is_time),
        field,
        _got("must be epoch seconds/ms or an ISO-8601 string"),
        col,
    )
    ms = _epoch_to_ms(pd.to_numeric(col.where(is_num), errors="coerce").astype("float64"))
    ms = ms.fillna(_iso_to_ms(col.where(is_str).astype("str")))
    if is_time.any():
        ms = ms.fillna(_datetimes_to_ms(pd.to_datetime(col.where(is_time), utc=True)))
    return ms


def timestamp_column(col: pd.Series, field: str, problems: Problems) -> pd.Series:
    """Epoch seconds or ms (by magnitude, see SECONDS_BELOW), ISO-8601 strings or datetimes -> Int64 ms."""
    present = ~_blank(col)
    if not present.any():
        return pd.Series(pd.NA, index=col.index, dtype="Int64")
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        ms = _datetimes_to_ms(col)
    elif pd.api.types.is_bool_dtype(col.dtype):
        problems.add(present, field, "must be a timestamp, got bool")
        ms = pd.Series(np.nan, index=col.index)
    elif pd.api.types.is_numeric_dtype(col.dtype):
        ms = _epoch_to_ms(col.astype("float64"))
    elif isinstance(col.dtype, pd.StringDtype):
        ms = _iso_to_ms(col.mask(~present))
    else:
        ms = _timestamps_from_object(col.mask(~present), field, problems)
    unparsed = present & ms.isna().to_numpy() & ~problems.mask(field)
    problems.add(unparsed, field, _shown("not a timestamp (use epoch seconds/ms or ISO-8601)"), col)
    out_of_range = ((ms < 0) | (ms >= MAX_TS_MS) | np.isinf(ms)).to_numpy(dtype=bool)
    problems.add(
        out_of_range, field, "out of range (1970..2200); epoch seconds or milliseconds expected"
    )
    return ms.mask(out_of_range).astype("Int64")


def flag_column(
    col: pd.Series, field: str, problems: Problems, *, parse_strings: bool
) -> pd.Series:
    """Booleans; missing means False."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.fillna(False).astype(bool)
    obj = col.astype(object)
    is_bool = obj.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(dtype=bool)
    texts = obj.map(lambda v: v.strip().lower() if isinstance(v, str) else None)
    parsed = texts.map(lambda t: True if t in _TRUE else False if t in _FALSE else None)
    ok = is_bool | (parsed.notna().to_numpy() if parse_strings else False)
    problems.add(obj.notna().to_numpy() & ~ok, field, _shown("must be true or false"), obj)
    out = obj.where(is_bool, parsed if parse_strings else None)
    return out.fillna(False).astype(bool)


def _as_tags(value: Any, parse_strings: bool) -> list[str] | None:
    if parse_strings and isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [t.strip() for t in text.split("|")]
    if isinstance(value, (list, tuple, np.ndarray)) and all(
        isinstance(t, str) and NUL not in t for t in value
    ):
        return [t for t in value if t]
    return None


def tags_column(
    col: pd.Series, field: str, problems: Problems, *, parse_strings: bool
) -> pd.Series:
    """Lists of strings (a CSV cell may hold a JSON array or `a|b|c`); missing means []."""

    def convert(value: Any) -> list[str] | None:
        try:
            return _as_tags(value, parse_strings)
        except ValueError:
            return None

    present = ~_blank(col)
    tags = col.astype(object).map(convert)
    bad = present & tags.isna().to_numpy()
    problems.add(bad, field, "must be a list of strings (without NUL characters)")
    return tags.map(lambda t: t if isinstance(t, list) else [])


def mapping_column(
    col: pd.Series, field: str, problems: Problems, *, parse_strings: bool
) -> pd.Series:
    """JSON objects (dicts with string keys; a CSV cell holds JSON text); missing means {}."""

    def convert(value: Any) -> dict[str, Any] | None:
        if parse_strings and isinstance(value, str):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                return None
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return value
        return None

    present = ~_blank(col)
    out = col.astype(object).map(convert)
    problems.add(present & out.isna().to_numpy(), field, "must be a JSON object with string keys")
    unwritable = out.map(lambda d: d is not None and not _writable_json(d)).to_numpy(dtype=bool)
    problems.add(
        unwritable,
        field,
        "cannot be stored as JSON: nested over 250 levels, a NUL character or a non-JSON value",
    )
    return out.mask(unwritable).map(lambda d: d if isinstance(d, dict) else {})


def _writable_json(value: dict[str, Any]) -> bool:
    """Whether the store can write it: orjson, which the store uses, stops at 254 levels of
    nesting, and PostgreSQL's jsonb refuses the NUL character."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:
        return False
    return _ESCAPED_NUL.search(text) is None


def category_column(
    col: pd.Series, field: str, problems: Problems, *, max_length: int
) -> pd.Series:
    """A category path `top/sub/leaf`: blanks around separators and empty levels are removed."""
    texts = text_column(col, field, problems, max_length=max_length)
    parts = texts.str.split(CATEGORY_SEPARATOR)
    clean = parts.map(
        lambda ps: CATEGORY_SEPARATOR.join(p.strip() for p in ps if p.strip()), na_action="ignore"
    )
    return clean.mask(clean == "").astype("str")
