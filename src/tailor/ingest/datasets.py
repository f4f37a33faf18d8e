"""Importers for public data sets. Each reader returns canonical frames; `import_dataset` writes
them through the same validation path as every other input. The data stays where it is: every
function takes a path.

Sequence files (`user item1 item2 ...`, time-ordered, no timestamps) get synthetic timestamps:
each user's k-th interaction is at SEQUENCE_EPOCH_MS + k seconds. Only the order is real, so use
these data sets with leave-one-out splits, never with time-based ones.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tailor.errors import InvalidInputError
from tailor.ingest.writer import ImportReport, Table, write_frames
from tailor.settings import IngestSettings
from tailor.store.base import Store
from tailor.types import CATEGORY_SEPARATOR

Frames = dict[Table, pd.DataFrame]
SEQUENCE_EPOCH_MS = 946_684_800_000  # 2000-01-01T00:00:00Z
SEQUENCE_STEP_MS = 1_000
TAOBAO_KINDS = {"pv": "view", "cart": "cart", "fav": "favorite", "buy": "purchase"}
OTTO_KINDS = {"clicks": "click", "carts": "cart", "orders": "purchase"}
_UNKNOWN_BRAND = "Unknown"


# ---- sequential format (Amazon, MovieLens sequences) --------------------------------------------


def read_sequences(path: str | Path) -> dict[str, list[str]]:
    """`user item1 item2 ...` per line, in time order -> {user: [items]} in file order."""
    sequences: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            tokens = line.split()
            if tokens:
                sequences.setdefault(tokens[0], []).extend(tokens[1:])
    return sequences


def sequence_events(sequences: dict[str, list[str]], kind: str) -> pd.DataFrame:
    """Events of one kind with synthetic increasing timestamps per user (see module docstring)."""
    lengths = np.fromiter(
        (len(s) for s in sequences.values()), dtype=np.int64, count=len(sequences)
    )
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(int(lengths.sum()), dtype=np.int64) - starts
    return pd.DataFrame(
        {
            "user_id": pd.Series(
                np.repeat(np.array(list(sequences), dtype=object), lengths), dtype="str"
            ),
            "item_id": pd.Series([i for seq in sequences.values() for i in seq], dtype="str"),
            "kind": kind,
            "ts": SEQUENCE_EPOCH_MS + position * SEQUENCE_STEP_MS,
        }
    )


def _item_text_records(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_item_text(path: str | Path) -> dict[str, str]:
    """{item_id: title} from an item-text JSONL file (`{"item_id", "title", "attributes"}`)."""
    return {
        str(r["item_id"]): html.unescape(r.get("title") or "") for r in _item_text_records(path)
    }


def _brand_and_category(attributes: list[list[str]]) -> tuple[list[str | None], list[str | None]]:
    """Attributes are `[brand?, top category, sub, ...]`: a name that never appears after the first
    position anywhere in the file is a brand ("Unknown" means none), the rest is the category path."""
    later = {a for attrs in attributes for a in attrs[1:]}
    brands: list[str | None] = []
    categories: list[str | None] = []
    for attrs in attributes:
        has_brand = bool(attrs) and attrs[0] not in later
        brand = attrs[0] if has_brand and attrs[0] != _UNKNOWN_BRAND else None
        path = [a.replace(CATEGORY_SEPARATOR, "-") for a in attrs[1 if has_brand else 0 :]]
        brands.append(brand)
        categories.append(CATEGORY_SEPARATOR.join(path) or None)
    return brands, categories


def amazon_items(text_path: str | Path) -> pd.DataFrame:
    """Catalogue from the item-text JSONL: title, brand and category path; the ASIN in attributes."""
    records = _item_text_records(text_path)
    attributes = [[html.unescape(a) for a in r.get("attributes") or []] for r in records]
    brands, categories = _brand_and_category(attributes)
    return pd.DataFrame(
        {
            "item_id": pd.Series([str(r["item_id"]) for r in records], dtype="str"),
            "title": pd.Series([html.unescape(r.get("title") or "") for r in records], dtype="str"),
            "brand": pd.Series(brands, dtype="str"),
            "category": pd.Series(categories, dtype="str"),
            "attributes": [{"asin": r["asin"]} if r.get("asin") else {} for r in records],
        }
    )


def amazon_frames(
    path: str | Path, text_path: str | Path | None = None
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(events, items) from an Amazon sequential file; every interaction is a "purchase"."""
    events = sequence_events(read_sequences(path), kind="purchase")
    return events, amazon_items(text_path) if text_path is not None else None


# ---- MovieLens-1M -------------------------------------------------------------------------------


def _dat_lines(path: Path) -> list[list[str]]:
    with open(path, encoding="latin-1") as handle:
        return [line.rstrip("\n").split("::") for line in handle if line.strip()]


def movielens_ratings(path: str | Path) -> pd.DataFrame:
    """Events from the official `ratings.dat` (`UserID::MovieID::Rating::Timestamp`, seconds)."""
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(autogenerate_column_names=True),
        parse_options=pacsv.ParseOptions(delimiter=":"),
        convert_options=pacsv.ConvertOptions(
            include_columns=["f0", "f2", "f4", "f6"],
            column_types={
                "f0": pa.string(),
                "f2": pa.string(),
                "f4": pa.float64(),
                "f6": pa.int64(),
            },
        ),
    ).to_pandas()
    return pd.DataFrame(
        {
            "user_id": table["f0"],
            "item_id": table["f2"],
            "kind": "rating",
            "ts": table["f6"] * 1000,
            "value": table["f4"],
        }
    )


def movielens_frames(directory: str | Path) -> Frames:
    """Events (kind "rating", value = stars when known), movies and users of MovieLens-1M.

    Uses `ratings.dat` when present; otherwise `ml-1m_sequences.txt` (time order only, no values,
    synthetic timestamps as described in the module docstring).
    """
    directory = Path(directory)
    if (directory / "ratings.dat").exists():
        events = movielens_ratings(directory / "ratings.dat")
    elif (directory / "ml-1m_sequences.txt").exists():
        events = sequence_events(read_sequences(directory / "ml-1m_sequences.txt"), kind="rating")
    else:
        raise InvalidInputError(f"{directory}: neither ratings.dat nor ml-1m_sequences.txt found")
    frames: Frames = {"events": events}
    if (directory / "movies.dat").exists():
        movies = _dat_lines(directory / "movies.dat")
        genres = [m[2].split("|") if len(m) > 2 and m[2] else [] for m in movies]
        frames["items"] = pd.DataFrame(
            {
                "item_id": pd.Series([m[0] for m in movies], dtype="str"),
                "title": pd.Series([m[1] for m in movies], dtype="str"),
                "category": pd.Series([g[0] if g else None for g in genres], dtype="str"),
                "tags": genres,
            }
        )
    if (directory / "users.dat").exists():
        fields = ("gender", "age", "occupation", "zip")
        users = _dat_lines(directory / "users.dat")
        frames["users"] = pd.DataFrame(
            {
                "user_id": pd.Series([u[0] for u in users], dtype="str"),
                "attributes": [dict(zip(fields, u[1:])) for u in users],
            }
        )
    return frames


# ---- shop logs: Taobao UserBehavior, OTTO ------------------------------------------------------


def taobao_frames(path: str | Path) -> Frames:
    """Taobao UserBehavior CSV (no header: user,item,category,behavior,timestamp in seconds)."""
    names = ["user_id", "item_id", "category", "behavior", "ts"]
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types={**{n: pa.string() for n in names[:4]}, "ts": pa.int64()}
        ),
    ).to_pandas()
    events = pd.DataFrame(
        {
            "user_id": table["user_id"],
            "item_id": table["item_id"],
            "kind": table["behavior"].map(lambda b: TAOBAO_KINDS.get(b, b)).astype("str"),
            "ts": table["ts"] * 1000,
        }
    )
    items = table[["item_id", "category"]].drop_duplicates("item_id").reset_index(drop=True)
    return {"events": events, "items": items}


def otto_frames(path: str | Path) -> Frames:
    """OTTO sessions JSONL: each session is both the user and the session; ts already in ms."""
    users: list[str] = []
    items: list[int] = []
    ts: list[int] = []
    kinds: list[str] = []
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            session = orjson.loads(line)
            events = session["events"]
            users.extend([str(session["session"])] * len(events))
            items.extend(e["aid"] for e in events)
            ts.extend(e["ts"] for e in events)
            kinds.extend(OTTO_KINDS.get(e["type"], e["type"]) for e in events)
    user_ids = pd.Series(users, dtype="str")
    return {
        "events": pd.DataFrame(
            {
                "user_id": user_ids,
                "item_id": pd.Series(items, dtype="int64").astype("str"),
                "kind": pd.Series(kinds, dtype="str"),
                "ts": np.asarray(ts, dtype=np.int64),
                "session_id": user_ids,
            }
        )
    }


# ---- one entry point -----------------------------------------------------------------------------


def _amazon(path: Path) -> Frames:
    """`path` is the sequences file; `<name>_item_text.jsonl` beside it is read when present."""
    text_path = path.with_name(f"{path.stem}_item_text.jsonl")
    events, items = amazon_frames(path, text_path if text_path.exists() else None)
    return {"events": events} if items is None else {"events": events, "items": items}


DATASETS: dict[str, Callable[[Path], Frames]] = {
    "amazon": _amazon,
    "movielens": movielens_frames,
    "taobao": taobao_frames,
    "otto": otto_frames,
}


def import_dataset(
    store: Store,
    name: str,
    path: str | Path,
    settings: IngestSettings,
    progress: Callable[[int], None] | None = None,
    *,
    chunk_rows: int = 1_000_000,
) -> ImportReport:
    """Read data set `name` (one of DATASETS) from `path` and write it; a report per table in `parts`.

    The data set is in memory anyway, so chunks are large: the store loads a big batch into an
    empty table much faster (ML-1M: about 9 CPU-seconds in one chunk against 15 in 200k chunks).
    """
    if name not in DATASETS:
        raise InvalidInputError(f"unknown data set {name!r}; known: {', '.join(sorted(DATASETS))}")
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"{name}: {path} not found")
    started = time.perf_counter()
    frames = DATASETS[name](path)
    report = write_frames(
        store, frames, settings, origin=f"{name}: {path.name}", chunk_rows=chunk_rows, progress=progress
    )
    report.seconds = time.perf_counter() - started  # reading included
    return report
