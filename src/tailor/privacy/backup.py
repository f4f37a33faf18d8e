"""`tailor backup` / `tailor restore` for a SQLite store, with SQLite's online backup API.

A backup copies the database in one step inside one read transaction: in WAL mode writers go on
meanwhile, and the copy is the database as of the moment the step began, whole. It is written
beside the target under a temporary name, checked with `PRAGMA integrity_check`, then renamed.
A restore checks the backup the same way, then copies it over the live database with the same
API (each connection sees the old database or the restored one); stop the servers first, or they
answer from the restored data from their next read on. PostgreSQL has pg_dump and pg_restore:
see docs/privacy.md.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from tailor.errors import ConfigError, StoreError

BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class BackupResult:
    path: str
    bytes: int
    seconds: float


def sqlite_path(store_url: str) -> Path:
    """The database file of a SQLite store URL; ConfigError naming pg_dump for PostgreSQL."""
    url = make_url(store_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise ConfigError(
            "tailor backup and restore work on a SQLite store; for PostgreSQL use pg_dump and "
            "pg_restore (see docs/privacy.md)"
        )
    return Path(url.database)


def backup(store_url: str, target: Path) -> BackupResult:
    """Copy the live store to `target` (replaced whole, never half-written)."""
    source_path = sqlite_path(store_url)
    if not source_path.is_file():
        raise StoreError(f"no SQLite store at {source_path} to back up")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.partial")
    temp.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        with _connect(source_path) as source, _connect(temp) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _require_intact(copy, temp)
        os.replace(temp, target)
    except sqlite3.Error as exc:
        raise StoreError(f"could not back up {source_path} to {target}: {exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
    return BackupResult(str(target), target.stat().st_size, time.perf_counter() - started)


def restore(backup_path: Path, store_url: str) -> BackupResult:
    """Replace the live store's contents with the backup at `backup_path`, after checking it."""
    target_path = sqlite_path(store_url)
    backup_path = Path(backup_path)
    if not backup_path.is_file():
        raise StoreError(f"no backup file at {backup_path}")
    started = time.perf_counter()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _connect(backup_path) as source, _connect(target_path) as live:
            _require_intact(source, backup_path)
            live.execute("PRAGMA journal_mode=WAL")
            source.backup(live)
            _require_intact(live, target_path)
    except sqlite3.Error as exc:
        raise StoreError(f"could not restore {backup_path} into {target_path}: {exc}") from exc
    return BackupResult(str(target_path), target_path.stat().st_size, time.perf_counter() - started)


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    found = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return [line for line in found if line != "ok"]


def _require_intact(connection: sqlite3.Connection, path: Path) -> None:
    problems = integrity_problems(connection)
    if problems:
        raise StoreError(f"{path} fails its integrity check: {'; '.join(problems[:5])}")


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        yield connection
    finally:
        connection.close()
