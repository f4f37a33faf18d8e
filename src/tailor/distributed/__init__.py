"""Training and batch work spread over a Ray cluster (`pip install 'tailor[ray]'`).

The single-machine path never imports Ray. `connect(address)` joins a cluster ("auto": the one
`ray start` runs on this machine; "local": a new one inside this process) and the modules here
hand it work:

    data.py      Ray Data reads the events from PostgreSQL (or SQLite) or from Parquet exports
    text.py      the catalogue's texts encoded by `tailor.text` in parallel batches
    sequence.py  the sequence Transformer trained by Ray Train (torch DDP over gloo, on CPU)
    search.py    hyperparameter trials of the other models, one Ray task each
    batch.py     recommendations and push plans for every user, one Ray task per user shard
    train.py     `tailor train --ray`: all of the above around `tailor.engine.train`
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Any

from tailor.errors import ConfigError

EXTRA = "pip install 'tailor[ray]'"


def require_ray() -> ModuleType:
    """The `ray` module, or a ConfigError naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError(f"--ray needs Ray and its training libraries: {EXTRA}") from exc
    return ray


def connect(address: str = "auto", **init_args: Any) -> ModuleType:
    """Join the Ray cluster at `address` (host:port, ray://host:port, "auto", or "local" for a new
    one in this process) unless already joined; returns the `ray` module."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    if address == "local":
        init_args.setdefault("include_dashboard", False)
        address = None
    try:
        ray.init(address=address, log_to_driver=False, **init_args)
    except ConnectionError as exc:
        raise ConfigError(
            f"no Ray cluster answers at {address!r} ({exc}); start one with `ray start --head`"
        ) from exc
    return ray


def cpu_count() -> int:
    """CPUs the joined cluster has (at least 1)."""
    ray = require_ray()
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
