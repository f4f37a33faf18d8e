"""Data preparation on Ray Data: the events read in parallel blocks, typed as the store types them.

The source is the store's database (PostgreSQL in production; SQLite works too) or a Parquet
export (a file or a directory of files with the event columns). SQL reads are split by `seq`
into one query per block. The blocks come back in the order the single-machine path reads
(`user_id, ts, seq` from a store; file order from Parquet), so `Dataset.from_events`, the risk
filter and everything after them see exactly the same frame: the Dataset's fingerprint is the
same as `tailor.engine.train.load_dataset`'s.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.engine import make_url

from tailor.data.dataset import Dataset
from tailor.distributed import cpu_count, require_ray
from tailor.errors import ConfigError, InvalidInputError
from tailor.risk import training_events
from tailor.settings import Settings
from tailor.store.base import Store
from tailor.store.schema import EVENT_DTYPES

ORDER = ["user_id", "ts", "seq"]  # the store's order of events (seq keeps insertion order)


def read_events(source: str | Path) -> pd.DataFrame:
    """All events of a store URL, or of a Parquet export path, read by Ray Data in parallel."""
    ray = require_ray()
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    if _is_url(source):
        blocks = ray.data.read_sql(
            f"SELECT {', '.join([*EVENT_DTYPES, 'seq'])} FROM events",
            partial(_connection, str(source)),
            # "(seq)": the integer key needs no hash; Ray builds MOD(ABS((seq)), n) = i per block
            shard_keys=["seq"],
            shard_hash_fn="",
            override_num_blocks=cpu_count(),
        )
    else:
        path = Path(source)
        if not path.exists():
            raise InvalidInputError(f"no Parquet export at {path}", field="events")
        blocks = ray.data.read_parquet(str(path))
    frame = blocks.map_batches(typed_events, batch_format="pandas").to_pandas()
    if "seq" in frame:
        frame = frame.sort_values(ORDER, kind="stable").drop(columns="seq")
    return frame.reset_index(drop=True)


def typed_events(batch: pd.DataFrame) -> pd.DataFrame:
    """A block with the store's event columns and dtypes (absent optional columns as missing)."""
    missing = {"user_id", "kind", "ts"} - set(batch.columns)
    if missing:
        raise InvalidInputError(f"the events lack columns {sorted(missing)}", field=min(missing))
    typed = {}
    for name, dtype in EVENT_DTYPES.items():
        column = batch[name] if name in batch else pd.Series(None, index=batch.index, dtype=object)
        typed[name] = column.astype(dtype)
    if "seq" in batch:
        typed["seq"] = batch["seq"].astype("int64")
    return pd.DataFrame(typed, index=batch.index)


def load_dataset(
    store: Store, settings: Settings, events: str | Path | None = None
) -> tuple[Dataset, pd.Series | None]:
    """`tailor.engine.train.load_dataset` with the events read on Ray: from `events` (a Parquet
    export) or else from the store's database. The catalogue and users come from the store."""
    frame = read_events(events if events is not None else settings.store_url)
    if not len(frame):
        raise InvalidInputError(
            "the store holds no events yet: import some with `tailor import events FILE`"
        )
    items = store.items()
    frame, _ = training_events(frame, store.users(), settings.risk)
    data = Dataset.from_events(frame, items, settings.ingest.event_weights)
    return data, (items["item_id"].astype(str) if len(items) else None)


def _is_url(source: str | Path) -> bool:
    return isinstance(source, str) and "://" in source


def _connection(url: str) -> Any:
    """A DB-API connection to the store's database (opened inside each Ray read task)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return sqlite3.connect(parsed.database or ":memory:")
    if backend == "postgresql":
        import psycopg

        plain = parsed.set(drivername="postgresql")
        return psycopg.connect(plain.render_as_string(hide_password=False))
    raise ConfigError(f"Ray Data cannot read events from a {backend!r} store")
