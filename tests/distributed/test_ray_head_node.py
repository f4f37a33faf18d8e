"""A cluster started the way an operator starts one (`ray start --head`), on ports Ray chooses:
`tailor recommend --users --ray ADDRESS` run against it answers as one machine does. The head
process is stopped by its pid, and no Ray process of it outlives the test."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ray_processes import stop_processes_under
from typer.testing import CliRunner

from tailor.cli import app

pytestmark = pytest.mark.ray

RAY = Path(sys.executable).with_name("ray")
TAILOR = Path(sys.executable).with_name("tailor")
# a test cluster on this machine only: no token to hand around
ENV = {**os.environ, "RAY_DISABLE_USAGE_STATS": "1", "RAY_AUTH_MODE": "disabled"}


@pytest.fixture
def head_address() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="tailor-head-", dir="/tmp")
    head = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", "--port=0", "--num-cpus=2",
         f"--temp-dir={folder}", "--include-dashboard=false", "--disable-usage-stats"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        address_file = Path(folder) / "ray_current_cluster"
        deadline = time.monotonic() + 120
        while not address_file.exists() and head.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert address_file.exists(), "ray start --head did not come up"
        yield address_file.read_text().strip()
    finally:
        head.send_signal(signal.SIGTERM)  # ray start --block drains, then stops what it started
        head.wait(timeout=90)
        left = stop_processes_under(folder)
        shutil.rmtree(folder, ignore_errors=True)
        assert not left, f"Ray processes {left} outlived their head node (killed now)"


def test_tailor_recommend_on_a_started_head_node(head_address, trained_shop, tmp_path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("\n".join(f"u{i}" for i in range(0, 120, 3)), encoding="utf-8")
    args = ["--config", str(trained_shop.config), "recommend", "--users", str(users)]
    alone = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a.jsonl")])
    assert alone.exit_code == 0, alone.output
    clustered = subprocess.run(  # a driver process of its own, as an operator would run it
        [str(TAILOR), *args, "--out", str(tmp_path / "b.jsonl"), "--ray", head_address],
        env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert clustered.returncode == 0, clustered.stderr[-2000:]
    expected = (tmp_path / "a.jsonl").read_text(encoding="utf-8")
    assert (tmp_path / "b.jsonl").read_text(encoding="utf-8") == expected != ""
