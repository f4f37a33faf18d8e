"""The crash harness at CI size: 10 SIGKILLs of a real `tailor serve` per backend, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "crash.py"
KILLS = 10


def crash_run(backend: str, tmp_path: Path) -> dict:
    report = tmp_path / "crash.json"
    args = ["--kills", str(KILLS), "--backends", backend, "--max-uptime", "0.3"]
    args += ["--max-events", "20000", "--max-seconds", "150", "--json", str(report)]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert report.exists(), done.stderr[-3000:]
    (row,) = json.loads(report.read_text())["rows"]
    return row | {"exit_code": done.returncode, "stdout": done.stdout[-3000:]}


def assert_survived(row: dict) -> None:
    assert row["kills"] == KILLS
    assert row["acknowledged"] > 0, row["stdout"]
    assert row["lost"] == 0 and row["duplicates"] == 0 and row["mismatched"] == 0, row["stdout"]
    assert row["integrity"] == "ok"
    assert row["refused"] == 0, row["refused_examples"]
    assert row["clients_gave_up"] == 0
    assert row["stored"] >= row["acknowledged"]
    assert row["exit_code"] == 0 and row["passed"]


@pytest.mark.slow  # ~3 s per restart
def test_sqlite_survives_sigkill(tmp_path: Path) -> None:
    assert_survived(crash_run("sqlite", tmp_path))


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_survives_sigkill(postgres_url: str, tmp_path: Path) -> None:
    """`postgres_url` only skips when no server answers; the harness makes its own database."""
    assert_survived(crash_run("postgresql", tmp_path))
