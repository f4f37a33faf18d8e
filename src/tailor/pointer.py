"""The CURRENT pointer of models kept apart from the recommenders (purchase prediction, review
sentiment): versioned folders under one root, and a CURRENT file naming the one served. A version
is published by replacing CURRENT atomically, after its folder is complete."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

CURRENT_FILE = "CURRENT"


def new_version() -> str:
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def current(root: Path) -> str | None:
    """The version CURRENT names under `root`, or None before the first."""
    try:
        return (root / CURRENT_FILE).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def publish(root: Path, version: str) -> None:
    """Make `version` current: write the pointer beside CURRENT, then rename it over."""
    pointer = root / f".{CURRENT_FILE}.{secrets.token_hex(4)}"
    pointer.write_text(version, encoding="utf-8")
    os.replace(pointer, root / CURRENT_FILE)
