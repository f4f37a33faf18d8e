"""SQLite specifics: pragmas, failures surfacing as StoreError, corruption, several processes."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from store_samples import numbered_events

from tailor.errors import ConfigError, StoreError
from tailor.store import open_store
from tailor.store import sqlite as sqlite_backend
from tailor.store.sqlite import BUSY_TIMEOUT_MS, SqliteStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "folders" / "tailor.db"


def test_opens_in_wal_mode_with_full_sync(db_path: Path) -> None:
    with open_store(f"sqlite:///{db_path}") as store:
        assert isinstance(store, SqliteStore) and db_path.exists()
        with store.engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    full = 2
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": full,
        "busy_timeout": BUSY_TIMEOUT_MS,
        "foreign_keys": 0,
    }


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/shop", "redis://127.0.0.1:6379/0", "tailor.db", "sqlite://"]
)
def test_unsupported_urls_are_config_errors_naming_the_url(url: str) -> None:
    with pytest.raises(ConfigError, match=url.split("/")[0]):
        open_store(url)


def test_disk_full_fails_cleanly_and_keeps_earlier_data(db_path: Path) -> None:
    with open_store(f"sqlite:///{db_path}") as store:
        store.add_events(numbered_events(10, prefix="kept"))
        with store.engine.connect() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

        def cap_size(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count={pages + 2}")

        event.listen(store.engine, "connect", cap_size)
        store.engine.dispose()
        with pytest.raises(StoreError, match="full"):
            store.add_events(numbered_events(5000))
        assert store.counts()["events"] == 10
        assert store.check_integrity() == []


def test_a_file_that_is_not_a_database_is_a_store_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"these are not the pages you are looking for" * 200)
    with pytest.raises(StoreError, match="not a database"):
        open_store(f"sqlite:///{db_path}")


def test_integrity_check_reports_a_corrupt_index(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    with open_store(url) as store:
        store.add_events(numbered_events(50))
    # Redefine the index without rebuilding it: its entries no longer match the table.
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA writable_schema=ON")
    raw.execute(
        "UPDATE sqlite_master "
        "SET sql = 'CREATE INDEX ix_events_user_ts ON events (item_id, ts, seq)' "
        "WHERE name = 'ix_events_user_ts'"
    )
    raw.commit()
    raw.close()
    with open_store(url) as store:
        problems = store.check_integrity()
    assert problems and any("ix_events_user_ts" in problem for problem in problems)


WRITER = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from tailor.store import open_store
    url, name = sys.argv[1], sys.argv[2]
    with open_store(url) as store:
        for batch in range(15):
            ids = [f"{name}-{batch}-{i}" for i in range(10)]
            frame = pd.DataFrame({"event_id": ids, "user_id": name, "kind": "view", "ts": batch})
            assert store.add_events(frame) == 10
            store.recent_events(name, 5)
    """
)


def test_several_processes_write_and_read_one_file(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    with open_store(url) as store:
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, url, name], stderr=subprocess.PIPE, text=True
            )
            for name in ("left", "right")
        ]
        while any(w.poll() is None for w in writers):
            store.events()
            time.sleep(0.01)
        for writer in writers:
            assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
        assert store.counts()["events"] == 300
        assert store.events()["user_id"].value_counts().to_dict() == {"left": 150, "right": 150}


def test_bulk_loads_skip_known_and_repeated_ids_and_rebuild_the_indexes(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_backend, "BULK_MIN_ROWS", 10)
    monkeypatch.setattr(sqlite_backend, "BULK_TABLE_SHARE", 1.0)
    bulk_loads: list[int] = []
    real_bulk_load = sqlite_backend._bulk_load

    def counted_bulk_load(*args: Any) -> int:
        bulk_loads.append(len(args[2][0]))
        return real_bulk_load(*args)

    monkeypatch.setattr(sqlite_backend, "_bulk_load", counted_bulk_load)
    with open_store(f"sqlite:///{db_path}") as store:
        assert store.add_events(numbered_events(40)) == 40
        broken = numbered_events(100, prefix="x").astype({"user_id": object})
        broken.loc[60, "user_id"] = None
        with pytest.raises(StoreError):
            store.add_events(broken)
        known = numbered_events(10)
        repeated = numbered_events(5, prefix="y").assign(user_id="someone else")
        mixed = pd.concat([numbered_events(60, prefix="y"), known, repeated], ignore_index=True)
        assert store.add_events(mixed) == 60
        assert bulk_loads == [40, 100, 75]
        assert "someone else" not in set(store.events()["user_id"])
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN "
                "SELECT * FROM events WHERE user_id = 'u1' ORDER BY ts DESC, seq DESC"
            ).all()
        assert "ix_events_user_ts" in str(plan)
        with pytest.raises(IntegrityError, match="UNIQUE"), store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO events (event_id, user_id, kind, ts) "
                "SELECT event_id, 'x', 'view', 0 FROM events LIMIT 1"
            )
        assert store.check_integrity() == []
        assert store.counts()["events"] == 100
        assert store.recent_events("u1", 3)["event_id"].tolist() == ["y43", "y50", "y57"]
