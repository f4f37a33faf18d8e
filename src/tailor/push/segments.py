"""Segment expressions over profile fields, e.g.

    stage in (active, at_risk) and segment != prospect and probability >= 0.2

Clauses are joined by `and`; operators are =, !=, <, <=, >, >= and `in (a, b, ...)`. Text fields
compare as text, number fields as numbers. An unknown field or a malformed clause is an
InvalidInputError naming `segment`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError

TEXT_FIELDS = ("stage", "segment", "channel")
NUMBER_FIELDS = (
    "probability",
    "recency_days",
    "last_seen_days",
    "frequency",
    "monetary",
    "events_30d",
)
FIELDS = TEXT_FIELDS + NUMBER_FIELDS
_CLAUSE = re.compile(r"^\s*([A-Za-z_]\w*)\s*(!=|>=|<=|=|>|<|\bin\b)\s*(.+?)\s*$", re.IGNORECASE)
FIELD = "segment"


def _fail(message: str) -> InvalidInputError:
    return InvalidInputError(f"segment: {message}", field=FIELD)


def _values(raw: str, name: str) -> list[str]:
    if not (raw.startswith("(") and raw.endswith(")")):
        raise _fail(f"`{name} in` needs a list in parentheses, e.g. {name} in (a, b)")
    return [v.strip().strip("'\"") for v in raw[1:-1].split(",") if v.strip()]


def _number(raw: str, name: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise _fail(f"{name} is a number; {raw!r} is not") from None


def select(users: pd.DataFrame, expression: str) -> np.ndarray:
    """A boolean mask of the users (one row each, columns FIELDS) the expression picks."""
    mask = np.ones(len(users), dtype=bool)
    for clause in re.split(r"\s+and\s+", expression.strip(), flags=re.IGNORECASE):
        match = _CLAUSE.match(clause)
        if match is None:
            raise _fail(f"cannot read {clause!r}; write `field op value` (ops: = != < <= > >= in)")
        name, op, raw = match.group(1).lower(), match.group(2).lower(), match.group(3)
        if name not in FIELDS:
            raise _fail(f"unknown field {name!r}; known fields: {', '.join(FIELDS)}")
        column = users[name]
        if op == "in":
            values = _values(raw, name)
            chosen = (
                column.astype(str).isin(values)
                if name in TEXT_FIELDS
                else column.isin([_number(v, name) for v in values])
            )
        elif name in TEXT_FIELDS:
            if op not in ("=", "!="):
                raise _fail(f"{name} is text: use =, != or in")
            chosen = (column.astype(str) == raw.strip("'\"")) == (op == "=")
        else:
            value, numbers = _number(raw, name), column.astype(np.float64)
            chosen = {
                "=": numbers == value,
                "!=": numbers != value,
                "<": numbers < value,
                "<=": numbers <= value,
                ">": numbers > value,
                ">=": numbers >= value,
            }[op]
        mask &= np.asarray(chosen, dtype=bool)
    return mask
