"""The `--ray` side of `tailor train`, `tailor recommend --users` and `tailor push plan`: work
on a Ray cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.table import Table

from tailor.artifacts import Manifest
from tailor.cli.output import console
from tailor.engine import Engine, Progress, Recommendation
from tailor.push.plan import Planned
from tailor.push.service import PlanRequest, push_events


def train(
    engine: Engine,
    address: str,
    events: Path | None,
    search: Sequence[str],
    progress: Progress,
    evaluate: bool,
) -> Manifest:
    """Train on the cluster at `address` and print the search's trials, if any."""
    from tailor.distributed.train import RayTraining, train_on_ray

    result = train_on_ray(
        engine, RayTraining(address, events, tuple(search)), progress, evaluate=evaluate
    )
    for model, trials in result.trials.items():
        table = Table(title=f"{model}: search on the time holdout (best first)")
        for column in ("params", "ndcg_at_10", "recall_at_10", "fit_seconds"):
            table.add_column(column)
        for trial in trials:
            table.add_row(
                str(trial.params),
                f"{trial.metrics['ndcg_at_10']:.4f}",
                f"{trial.metrics['recall_at_10']:.4f}",
                f"{trial.fit_seconds:.1f}",
            )
        console.print(table)
    return result.manifest


def recommend_many(
    engine: Engine, address: str, user_ids: Sequence[str], k: int, category: str | None
) -> Iterator[tuple[str, list[Recommendation]]]:
    """`Engine.recommend_many` over user shards on the cluster at `address`."""
    from tailor.distributed import connect
    from tailor.distributed.batch import recommend_all

    connect(address)
    version = engine.version
    assert version is not None  # the caller loaded a version
    yield from recommend_all(engine.settings, user_ids, k, version=version, category=category)


def plan_push(
    engine: Engine, address: str, request: PlanRequest, at: int | None, record: bool
) -> list[Planned]:
    """`Engine.plan_push` over user shards on the cluster at `address`, all as of one `now`."""
    from tailor.distributed import connect
    from tailor.distributed.batch import plan_push_all

    connect(address)
    now = at if at is not None else time.time_ns() // 1_000_000
    planned = plan_push_all(engine.settings, request, now)
    if record:
        engine.ingest_events(push_events(planned, request.channel))
    return planned
