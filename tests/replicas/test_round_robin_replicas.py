"""Two real `tailor serve` replicas on loopback, sharing one PostgreSQL database, one artifacts
directory and the local Redis, behind a round-robin client: what is written to either one shows
in the other's next answers within 1 s, and a key's rate limit holds across both."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tailor.engine import Engine
from tailor.ingest.synthetic import SyntheticShop, generate_shop
from tailor.service.auth import create_key
from tailor.settings import CacheSettings, Role, Settings, load_settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

VISIBLE_WITHIN_SECONDS = 1.0
START_SECONDS = 90.0
READ_BURST = 8  # the read role's bucket: 8 requests, then (nearly) no refill
RATE_LIMITS = {
    "read": {"per_second": 0.001, "burst": READ_BURST},
    "admin": {"per_second": 1e6, "burst": 10**6},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Replica:
    url: str
    process: subprocess.Popen
    log: Path

    def check_running(self) -> None:
        assert self.process.poll() is None, self.log.read_text()[-3000:]


@dataclass
class Cluster:
    settings: Settings
    shop: SyntheticShop
    replicas: list[Replica]
    admin_key: str

    def clients(self, key: str | None = None) -> RoundRobin:
        return RoundRobin([r.url for r in self.replicas], key or self.admin_key)

    def new_key(self, role: Role) -> str:
        with Engine(self.settings) as engine:
            return create_key(engine.store, role, f"replica-test-{role}")[0]


class RoundRobin:
    """One client per replica; `next()` hands them out in turn, as a round-robin balancer would."""

    def __init__(self, urls: list[str], key: str) -> None:
        headers = {"Authorization": f"Bearer {key}"}
        self.each = [httpx.Client(base_url=u, headers=headers, timeout=30.0) for u in urls]
        self.turn = 0

    def next(self) -> httpx.Client:
        client = self.each[self.turn % len(self.each)]
        self.turn += 1
        return client

    def close(self) -> None:
        for client in self.each:
            client.close()


def start_replica(settings: Settings, cache: CacheSettings, folder: Path, n: int) -> Replica:
    port = free_port()
    env = {
        **os.environ,
        "TAILOR_STORE_URL": settings.store_url,
        "TAILOR_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "TAILOR_CACHE__REDIS_URL": cache.redis_url,
        "TAILOR_CACHE__KEY_PREFIX": cache.key_prefix,
        "TAILOR_SERVICE__RATE_LIMITS": json.dumps(RATE_LIMITS),
    }
    log = folder / f"replica{n}.log"
    tailor = Path(sys.executable).with_name("tailor")
    command = [str(tailor), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=out)
    return Replica(f"http://127.0.0.1:{port}", process, log)


def warm_up(replica: Replica, version: str, key: str, shop: SyntheticShop) -> None:
    """Wait until the replica serves `version`, then ask for a profile once (which loads the
    text encoder), so the tests time answers, not start-up."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        replica.check_running()
        try:
            if httpx.get(f"{replica.url}/healthz").json().get("model_version") == version:
                user = shop.users["user_id"].iloc[0]
                headers = {"Authorization": f"Bearer {key}"}
                ok(httpx.get(f"{replica.url}/v1/users/{user}/profile", headers=headers, timeout=60))
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{replica.url} not serving within {START_SECONDS} s")


@pytest.fixture(scope="module")
def cluster(module_postgres_url, redis_cache_settings, tmp_path_factory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("replicas")
    settings = load_settings(
        store_url=module_postgres_url,
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn"], "ranker": {"enabled": False}},
    )
    shop = generate_shop(120, 60, days=30, seed=5)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        admin_key = create_key(engine.store, Role.admin, "replica-tests")[0]
        # Started before training, so their start-up overlaps it: they pick the version up.
        replicas = [start_replica(settings, redis_cache_settings, folder, n) for n in range(2)]
        try:
            version = engine.train(evaluate=False).version
            with ThreadPoolExecutor(len(replicas)) as pool:
                list(pool.map(lambda r: warm_up(r, version, admin_key, shop), replicas))
            yield Cluster(settings, shop, replicas, admin_key)
        finally:
            for replica in replicas:
                replica.process.terminate()
            for replica in replicas:
                replica.process.wait(timeout=30)


def within_a_second(check: Callable[[], bool], since: float) -> None:
    """Fails unless `check()` holds within 1 s of `since`."""
    while True:
        if check():
            return
        if time.monotonic() - since > VISIBLE_WITHIN_SECONDS:
            raise AssertionError(f"not visible within {VISIBLE_WITHIN_SECONDS} s")
        time.sleep(0.02)


def ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def item_ids(response: httpx.Response) -> list[str]:
    return [item["item_id"] for item in ok(response)["items"]]


def test_an_event_posted_to_either_replica_shows_in_the_others_next_answers(cluster):
    clients = cluster.clients()
    users = cluster.shop.users["user_id"].astype(str).tolist()[:4]
    for user in users:  # rounds alternate: write on one replica, read on the other
        writer, reader = clients.next(), clients.next()
        clients.next()  # so the next round writes on the other replica
        ok(reader.get(f"/v1/users/{user}/profile"))  # built (and cached) before the write
        top = item_ids(reader.get(f"/v1/users/{user}/recommendations"))[0]
        events_before = ok(reader.get(f"/v1/users/{user}/profile"))["activity"]["events"]
        event = {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": top, "kind": "cart",
                 "ts": time.time_ns() // 1_000_000}  # fmt: skip
        assert ok(writer.post("/v1/events", json=event))["accepted"] == 1
        acknowledged = time.monotonic()

        def reflected() -> bool:
            carted = item_ids(reader.get(f"/v1/users/{user}/continue-shopping"))
            recommended = item_ids(reader.get(f"/v1/users/{user}/recommendations"))
            events = ok(reader.get(f"/v1/users/{user}/profile"))["activity"]["events"]
            return top in carted and top not in recommended and events == events_before + 1

        within_a_second(reflected, acknowledged)
    clients.close()


def test_a_keys_rate_limit_holds_across_the_replicas(cluster):
    clients = cluster.clients(cluster.new_key(Role.read))
    answers = [clients.next().get("/v1/popular") for _ in range(READ_BURST + 4)]
    statuses = [a.status_code for a in answers]
    # Each replica alone would let 8 through: 12 split 6/6 would all pass.
    assert statuses == [200] * READ_BURST + [429] * 4, statuses
    assert int(answers[-1].headers["Retry-After"]) >= 1
    clients.close()


def test_a_catalogue_change_on_either_replica_shows_on_the_other(cluster):
    clients = cluster.clients()
    first, second = clients.next(), clients.next()
    hidden, deleted = item_ids(second.get("/v1/popular", params={"k": 20}))[:2]
    row = cluster.shop.items.set_index("item_id").loc[hidden]
    item = {"item_id": hidden, "title": row["title"], "category": row["category"],
            "price": float(row["price"]), "stock": int(row["stock"])}  # fmt: skip

    def popular_on(client: httpx.Client) -> list[str]:
        return item_ids(client.get("/v1/popular", params={"k": 20}))

    ok(first.put("/v1/items", json={**item, "hidden": True}))
    within_a_second(lambda: hidden not in popular_on(second), time.monotonic())
    assert ok(second.delete(f"/v1/items/{deleted}"))["deleted"] == 1
    within_a_second(lambda: deleted not in popular_on(first), time.monotonic())
    ok(second.put("/v1/items", json={**item, "hidden": False}))
    within_a_second(lambda: hidden in popular_on(first), time.monotonic())
    clients.close()
