"""Batch recommendations and push plans over user shards on Ray equal the one-machine answers."""

from __future__ import annotations

import pytest

from tailor.distributed.batch import plan_push_all, recommend_all, shards
from tailor.engine import Engine
from tailor.push.plan import PushRules
from tailor.push.service import PlanRequest

pytestmark = pytest.mark.ray


def test_shards_cover_the_users_once_in_order() -> None:
    users = [f"u{i}" for i in range(7)]
    assert shards(users, 3) == [["u0", "u1", "u2"], ["u3", "u4"], ["u5", "u6"]]
    assert shards(users[:2], 5) == [["u0"], ["u1"]]


def test_recommendations_for_all_users_are_identical(local_ray, trained_shop) -> None:
    with Engine(trained_shop.settings) as engine:
        engine.load()
        users = engine.store.users()["user_id"].astype(str).tolist()
        expected = list(engine.recommend_many(users, 10))
        answers = recommend_all(engine.settings, users, 10, version=engine.version, n_shards=3)
    assert [u for u, _ in answers] == users and len(users) == 120
    assert answers == expected


def test_push_plans_for_all_users_are_identical(local_ray, trained_shop) -> None:
    request = PlanRequest(
        audience="all",
        rules=PushRules(k=2, per_day=1, per_week=3, quiet_start=22, quiet_end=8),
        channel="app",
    )
    with Engine(trained_shop.settings) as engine:
        expected = engine.plan_push(request, now=trained_shop.now)
    planned = plan_push_all(trained_shop.settings, request, trained_shop.now, n_shards=3)
    assert len(planned) > 10
    assert planned == sorted(expected, key=lambda p: p.user_id)
