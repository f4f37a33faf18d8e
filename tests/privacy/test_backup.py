"""`tailor backup` / `tailor restore` on SQLite: consistent while writes go on, checked, audited."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from privacy_setup import DAY_MS, user_events
from typer.testing import CliRunner

from tailor.cli import app
from tailor.errors import ConfigError, StoreError
from tailor.privacy import backup, restore
from tailor.privacy.backup import integrity_problems
from tailor.store import open_store

START = 20_000 * DAY_MS


def write_until(url: str, stop: threading.Event, written: list[int]) -> None:
    """Store batches of 5 events (one transaction each) until told to stop."""
    with open_store(url) as store:
        batch = 0
        while not stop.is_set():
            written.append(store.add_events(user_events(f"writer-{batch}", ["i1"], START)))
            batch += 1


def event_count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        assert integrity_problems(db) == []
        return db.execute("SELECT count(*) FROM events").fetchone()[0]


def test_backups_taken_while_a_writer_writes_are_whole_and_restore(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/live.db"
    open_store(url).close()
    stop, written = threading.Event(), []
    writer = threading.Thread(target=write_until, args=(url, stop, written))
    writer.start()
    try:
        while len(written) < 3:
            stop.wait(0.01)
        copies = [backup(url, tmp_path / f"copy-{n}.db") for n in range(3)]
    finally:
        stop.set()
        writer.join()
    counts = [event_count(Path(c.path)) for c in copies]
    assert all(count % 5 == 0 for count in counts), counts  # whole transactions only
    assert counts == sorted(counts) and 0 < counts[0] and counts[-1] <= sum(written)

    restored = restore(tmp_path / "copy-0.db", url)
    assert event_count(Path(restored.path)) == counts[0]
    with open_store(url) as store:
        assert store.check_integrity() == []
        assert store.counts()["events"] == counts[0]


def test_restore_refuses_a_damaged_backup_and_postgres_is_pointed_to_pg_dump(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/live.db"
    with open_store(url) as store:
        store.add_events(user_events("u", ["i1"], START))
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x07" * 5000)
    with pytest.raises(StoreError):
        restore(damaged, url)
    with open_store(url) as store:
        assert store.counts()["events"] == 5
    with pytest.raises(ConfigError, match="pg_dump"):
        backup("postgresql+psycopg://u@127.0.0.1/db", tmp_path / "x.db")


def test_cli_backup_restore_purge_and_keys_are_audited(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_STORE_URL", f"sqlite:///{tmp_path}/tailor.db")
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        store.add_events(user_events("old", ["i1"], START - 800 * DAY_MS))
        store.add_events(user_events("new", ["i1"], START))
    runner = CliRunner()

    def tailor(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    def audited_actions() -> list[str]:
        return [json.loads(line)["action"] for line in tailor("audit", "--json").splitlines()]

    assert "backed up" in tailor("backup", "nightly.db")
    assert "events" in tailor("purge", "--older-than", "365d")
    tailor("keys", "create", "--role", "read", "--name", "shop")
    assert audited_actions() == ["create_key", "purge", "backup"]
    assert "restored" in tailor("restore", "nightly.db")
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        assert store.counts()["events"] == 10  # as backed up, before the purge
    assert audited_actions() == ["restore"]  # the backup's log (taken before its own entry)
    refused = runner.invoke(app, ["purge", "--older-than", "soon"])
    assert refused.exit_code == 1 and "--older-than" in refused.output
