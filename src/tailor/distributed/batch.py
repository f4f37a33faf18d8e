"""Batch work over user shards, one Ray task per shard: recommendations and push plans.

Each task opens its own `Engine` on the same store and artifacts (a database and a directory
every node reaches) and answers its shard as `Engine.recommend_many` / `Engine.plan_push` would
for those users; answers for one user never depend on other users, so the union equals the
single-machine answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from tailor.distributed import cpu_count, require_ray
from tailor.engine import Engine, Recommendation
from tailor.errors import InvalidInputError
from tailor.push.plan import DAY_MS, Planned
from tailor.push.service import PlanRequest
from tailor.settings import Settings


def shards(user_ids: Sequence[str], n: int) -> list[list[str]]:
    """`user_ids` in `n` contiguous, nearly equal shards (none empty)."""
    n = max(1, min(n, len(user_ids)))
    size, extra = divmod(len(user_ids), n)
    bounds = [i * size + min(i, extra) for i in range(n + 1)]
    return [list(user_ids[a:b]) for a, b in zip(bounds, bounds[1:])]


def _recommend_shard(
    settings: Settings, version: str, user_ids: list[str], k: int, category: str | None
) -> list[tuple[str, list[Recommendation]]]:
    with Engine(settings) as engine:
        engine.load(version)
        return list(engine.recommend_many(user_ids, k, category=category))


def recommend_all(
    settings: Settings,
    user_ids: Sequence[str],
    k: int = 10,
    *,
    version: str,
    category: str | None = None,
    n_shards: int | None = None,
) -> list[tuple[str, list[Recommendation]]]:
    """(user_id, top k) for every user, in the order given, from artifact `version`."""
    ray = require_ray()
    task = ray.remote(_recommend_shard)
    parts = shards(list(user_ids), n_shards or cpu_count())
    answers = ray.get([task.remote(settings, version, part, k, category) for part in parts])
    return [pair for part in answers for pair in part]


def _plan_shard(settings: Settings, request: PlanRequest, now: int) -> list[Planned]:
    with Engine(settings) as engine:
        return engine.plan_push(request, now=now)


def plan_push_all(
    settings: Settings, request: PlanRequest, now: int, *, n_shards: int | None = None
) -> list[Planned]:
    """The push plan of `request` (audience "all" or "list") as of `now`, by user shards;
    ordered by user id. Recording the plan is left to the caller (`push_events`)."""
    ray = require_ray()
    if request.audience == "all":
        with Engine(settings) as engine:
            since = now - settings.push.lookback_days * DAY_MS
            users = sorted(set(engine.store.events(since=since)["user_id"].astype(str)))
    elif request.audience == "list":
        users = sorted(set(request.users))
    else:
        raise InvalidInputError(
            "a distributed push plan takes the audience 'all' or 'list'", field="audience"
        )
    if not users:
        return []
    task = ray.remote(_plan_shard)
    parts = shards(users, n_shards or cpu_count())
    requests = [replace(request, audience="list", users=tuple(part)) for part in parts]
    plans = ray.get([task.remote(settings, shard, now) for shard in requests])
    return sorted((p for part in plans for p in part), key=lambda p: p.user_id)
