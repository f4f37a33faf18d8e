"""A local Ray cluster in this process (2 CPUs, no dashboard, its files under /tmp) and a small
trained shop shared by the distributed tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

pytest.importorskip("ray", reason="the distributed tests need the ray extra")

from ray_processes import stop_processes_under  # noqa: E402

from tailor.distributed import connect  # noqa: E402
from tailor.engine import Engine  # noqa: E402
from tailor.propensity.service import train_propensity  # noqa: E402
from tailor.settings import Settings  # noqa: E402

os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")

SHOP_CONFIG = """[train]
models = ["popular", "itemknn"]
[train.ranker]
enabled = false
"""


@pytest.fixture(scope="session")
def ray_temp_dir() -> Iterator[str]:
    """Ray's session files (sockets, logs), kept short and under /tmp. At the end the cluster is
    shut down, and no process of it may be left."""
    folder = tempfile.mkdtemp(prefix="tailor-ray-", dir="/tmp")
    yield folder
    import ray

    ray.shutdown()
    stop_processes_under(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def local_ray(ray_temp_dir: str) -> ModuleType:
    """The in-process local cluster, started on first use (a no-op while it runs)."""
    try:
        return connect("local", num_cpus=2, _temp_dir=ray_temp_dir, include_dashboard=False)
    except Exception:  # Ray waits 30 s for its raylet to start: a busy machine can take longer
        import ray

        ray.shutdown()
        return connect("local", num_cpus=2, _temp_dir=ray_temp_dir, include_dashboard=False)


@dataclass(frozen=True)
class TrainedShop:
    config: Path
    settings: Settings
    now: int  # just after the shop's last event (ms)


@pytest.fixture(scope="session")
def trained_shop(tmp_path_factory, stored_small_shop) -> TrainedShop:
    """The 120-user shop of `stored_small_shop`, with recommenders (popular, ItemKNN) and
    purchase prediction trained on one machine."""
    folder = tmp_path_factory.mktemp("ray-shop")
    config, settings, shop = stored_small_shop(folder, seed=8, extra_config=SHOP_CONFIG)
    with Engine(settings) as engine:
        engine.train(evaluate=False)
        train_propensity(engine.store, settings)
    return TrainedShop(config, settings, int(shop.events["ts"].max()) + 1)
