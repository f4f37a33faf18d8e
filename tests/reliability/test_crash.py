"""The crash harness at CI size: 10 SIGKILLs of a real `tailor serve` per backend, nothing lost."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "crash.py"
KILLS = 10


class Harness:
    """One backend's harness, started as its own process; `result` waits for its report."""

    def __init__(self, backend: str, folder: Path) -> None:
        self.report = folder / "crash.json"
        self.output = folder / "crash.out"
        args = ["--kills", str(KILLS), "--backends", backend, "--max-uptime", "0.3"]
        # the clients' deadline: generous, since restarts on a busy machine take up to 15 s each
        args += ["--max-events", "20000", "--max-seconds", "300", "--json", str(self.report)]
        with self.output.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, str(SCRIPT), *args], stdout=output, stderr=subprocess.STDOUT
            )

    def result(self) -> dict:
        self.process.wait(timeout=480)
        output = self.output.read_text()[-3000:]
        assert self.report.exists(), output
        (row,) = json.loads(self.report.read_text())["rows"]
        return row | {"exit_code": self.process.returncode, "stdout": output}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def harnesses(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Harness]]:
    """Both backends' harnesses run side by side: each spends most of its time waiting for its
    server to restart. PostgreSQL's starts only when `postgres_url` would not skip."""
    backends = ["sqlite", *(["postgresql"] if postgres_answers(request) else [])]
    started = {b: Harness(b, tmp_path_factory.mktemp(f"crash-{b}")) for b in backends}
    yield started
    for harness in started.values():
        harness.stop()


def postgres_answers(request: pytest.FixtureRequest) -> bool:
    try:
        request.getfixturevalue("postgres_url")
    except pytest.skip.Exception:
        return False
    return True


def assert_survived(row: dict) -> None:
    assert row["kills"] == KILLS
    assert row["acknowledged"] > 0, row["stdout"]
    assert row["lost"] == 0 and row["duplicates"] == 0 and row["mismatched"] == 0, row["stdout"]
    assert row["integrity"] == "ok"
    assert row["refused"] == 0, row["refused_examples"]
    assert row["clients_gave_up"] == 0
    assert row["stored"] >= row["acknowledged"]
    assert row["exit_code"] == 0 and row["passed"]


@pytest.mark.slow  # ~5 s per restart
def test_sqlite_survives_sigkill(harnesses: dict[str, Harness]) -> None:
    assert_survived(harnesses["sqlite"].result())


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_survives_sigkill(postgres_url: str, harnesses: dict[str, Harness]) -> None:
    """`postgres_url` only skips when no server answers; the harness makes its own database."""
    assert_survived(harnesses["postgresql"].result())
