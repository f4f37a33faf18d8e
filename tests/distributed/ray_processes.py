"""Finding and stopping the processes of a Ray cluster by the temp dir it was given."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def processes_under(folder: str) -> list[int]:
    """Pids of the processes whose command line names `folder` (Ray's name their temp dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and folder in (entry / "cmdline").read_text(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def stop_processes_under(folder: str, grace: float = 30.0) -> list[int]:
    """Wait up to `grace` s for the processes under `folder` to end, then kill what is left (a
    loaded machine can keep Ray's from finishing their shutdown); returns the pids it killed."""
    deadline = time.monotonic() + grace
    while processes_under(folder) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = processes_under(folder)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left
