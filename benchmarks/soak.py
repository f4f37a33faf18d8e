"""Soak: a real `tailor serve` under mixed load at half its measured maximum, for many minutes.

1. A synthetic shop (`generate_shop`) is stored in SQLite and trained (`Engine.train`, the
   configured models, no evaluation).
2. `tailor serve` runs on 127.0.0.1 (rate limits raised above the load); the load comes from this
   process (`benchmarks/loadgen.py`, keep-alive connections, every request bounded in count and
   time). The mix: 60% GET /v1/users/{id}/recommendations, 20% GET /v1/users/{id}/profile,
   20% POST /v1/events with 10 new events each, users and items drawn at random from the shop.
3. Warm-up: one recommendation and one profile for every user (so the bounded caches fill).
4. Maximum: a short closed-loop ramp (1, 2, 4, 8, 16 connections, `--ramp-seconds` each, stopped
   once throughput stops growing by 5%); the best 2xx/s is the maximum. Then `--warmup-seconds`
   of the paced mix; the server's RSS after it is the baseline.
5. Soak: `--minutes` of the mix paced at `--share` (0.5) of the maximum, in windows of
   `--window-seconds`; per window: throughput, p50/p99, 5xx, other failures, server RSS.

Goals: 0 5xx, RSS growth <= 10% (last window against the baseline), p99 drift <= 20% (last window
against the first).

    nice -n 10 .venv/bin/python benchmarks/soak.py --minutes 30 --json /tmp/soak.json
    .venv/bin/python benchmarks/soak.py --short                    # ~1 minute of soak, CI size
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from crash import Server, free_port
from loadgen import LoadResult, Request, run_load

from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.service.auth import create_key
from tailor.settings import Role, load_settings
from tailor.store import open_store

UNLIMITED = {"admin": {"per_second": 1e9, "burst": 10**9}}
RAMP_CONNECTIONS = (1, 2, 4, 8, 16)
RAMP_GAIN = 1.05  # a step must beat the best so far by this much for the ramp to go on
EVENTS_PER_POST = 10
KINDS = ("view", "view", "view", "click", "favorite", "cart", "purchase")


@dataclass(frozen=True)
class SoakPlan:
    minutes: float = 30.0
    window_seconds: float = 60.0
    warmup_seconds: float = 60.0
    ramp_seconds: float = 5.0
    share: float = 0.5  # of the measured maximum
    users: int = 2_000
    items: int = 1_000
    seed: int = 0

    @classmethod
    def short(cls, seed: int = 0) -> SoakPlan:
        """The CI size: about a minute of soak on a small shop."""
        return cls(minutes=1.0, window_seconds=10.0, warmup_seconds=10.0, ramp_seconds=3.0,
                   users=500, items=300, seed=seed)  # fmt: skip


@dataclass(frozen=True)
class Shop:
    user_ids: list[str]
    item_ids: list[str]
    data_fingerprint: str
    n_events: int
    models: list[str]


class MixedLoad:
    """Requests of the soak's mix; each batch of events it makes carries new event ids."""

    def __init__(self, shop: Shop, seed: int) -> None:
        self.shop = shop
        self.rng = np.random.default_rng(seed)
        self.posted = 0

    def requests(self, n: int) -> list[Request]:
        kinds = self.rng.permutation(np.arange(n) % 10)
        users = self.rng.choice(self.shop.user_ids, n)
        return [self._request(int(k), str(u)) for k, u in zip(kinds, users)]

    def _request(self, kind: int, user: str) -> Request:
        if kind < 6:
            return ("GET", f"/v1/users/{user}/recommendations", b"")
        if kind < 8:
            return ("GET", f"/v1/users/{user}/profile", b"")
        return ("POST", "/v1/events", self._events(user))

    def _events(self, user: str) -> bytes:
        self.posted += 1
        now = int(time.time() * 1000)
        items = self.rng.choice(self.shop.item_ids, EVENTS_PER_POST)
        return orjson.dumps([
            {"event_id": f"soak-{self.posted}-{j}", "user_id": user, "item_id": str(item),
             "kind": KINDS[(self.posted + j) % len(KINDS)], "ts": now + j, "channel": "app"}
            for j, item in enumerate(items)
        ])  # fmt: skip

    def warmup(self) -> list[Request]:
        """One recommendation and one profile for every user."""
        return [("GET", f"/v1/users/{u}/{what}", b"") for u in self.shop.user_ids
                for what in ("recommendations", "profile")]  # fmt: skip


def build_shop(workdir: Path, plan: SoakPlan) -> Shop:
    settings = load_settings(
        store_url=f"sqlite:///{workdir / 'tailor.db'}", artifacts_dir=workdir / "artifacts"
    )
    shop = generate_shop(plan.users, plan.items, days=30, seed=plan.seed)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        manifest = engine.train(evaluate=False)
    return Shop(
        user_ids=shop.users["user_id"].astype(str).tolist(),
        item_ids=shop.items["item_id"].astype(str).tolist(),
        data_fingerprint=manifest.data_fingerprint,
        n_events=manifest.n_events,
        models=manifest.models,
    )


def server_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    raise RuntimeError(f"no VmRSS for process {pid}")


def server_errors(result: LoadResult) -> int:
    return sum(n for status, n in result.statuses.items() if status >= 500)


def measure_max(
    port: int, headers: dict[str, str], load: MixedLoad, seconds: float
) -> tuple[float, int, list[dict[str, Any]]]:
    """The best 2xx/s of a closed-loop ramp, the connections that reached it, and each step."""
    steps: list[dict[str, Any]] = []
    best, best_connections = 0.0, RAMP_CONNECTIONS[0]
    for connections in RAMP_CONNECTIONS:
        requests = load.requests(int(seconds * 2_000))
        result = run_load("127.0.0.1", port, requests, headers, concurrency=connections,
                          max_requests=len(requests), max_seconds=seconds)  # fmt: skip
        per_s = result.ok / result.seconds
        steps.append({"connections": connections, "per_s": round(per_s, 1),
                      "p99_ms": result.summary()["p99_ms"], "server_errors": server_errors(result)})  # fmt: skip
        if per_s < best * RAMP_GAIN:
            break
        best, best_connections = per_s, connections
    return best, best_connections, steps


def soak(workdir: Path, plan: SoakPlan, log: bool = True) -> dict[str, Any]:
    """Build, serve, ramp, warm up and soak; the summary, the ramp and each window."""
    started = time.perf_counter()
    shop = build_shop(workdir, plan)
    with open_store(f"sqlite:///{workdir / 'tailor.db'}") as store:
        key, _ = create_key(store, Role.admin, "soak")
    headers = {"Authorization": f"Bearer {key}"}
    load = MixedLoad(shop, plan.seed)
    server = Server(f"sqlite:///{workdir / 'tailor.db'}", workdir, free_port(),
                    env={"TAILOR_SERVICE__RATE_LIMITS": json.dumps(UNLIMITED)})  # fmt: skip
    server.start()
    try:
        pid = server.process.pid  # type: ignore[union-attr]
        warm = load.warmup()
        run_load("127.0.0.1", server.port, warm, headers, concurrency=RAMP_CONNECTIONS[2],
                 max_requests=len(warm), max_seconds=600.0)  # fmt: skip
        maximum, connections, ramp = measure_max(server.port, headers, load, plan.ramp_seconds)
        rate = plan.share * maximum
        _window(server.port, headers, load, rate, connections, plan.warmup_seconds)
        baseline_mb = server_rss_mb(pid)
        windows = []
        for n in range(max(math.ceil(plan.minutes * 60 / plan.window_seconds), 1)):
            found = _window(server.port, headers, load, rate, connections, plan.window_seconds)
            windows.append({"window": n + 1, **found, "server_rss_mb": server_rss_mb(pid)})
            if log:
                print(f"window {n + 1}: {json.dumps(windows[-1])}", flush=True)
    finally:
        server.stop()
    first, last = windows[0], windows[-1]
    summary = {
        "soak_minutes": round(sum(w["seconds"] for w in windows) / 60.0, 2),
        "max_per_s": round(maximum, 1),
        "connections": connections,
        "target_per_s": round(rate, 1),
        "achieved_per_s": round(sum(w["ok"] for w in windows) / sum(w["seconds"] for w in windows), 1),
        "requests": sum(w["requests"] for w in windows),
        "soak_server_errors": sum(w["server_errors"] for w in windows),
        "failed_requests": sum(w["failed"] for w in windows),
        "baseline_rss_mb": baseline_mb,
        "last_rss_mb": last["server_rss_mb"],
        "soak_mem_growth_pct": round(100.0 * (last["server_rss_mb"] - baseline_mb) / baseline_mb, 2),
        "first_p99_ms": first["p99_ms"],
        "last_p99_ms": last["p99_ms"],
        "p99_drift_pct": round(100.0 * (last["p99_ms"] - first["p99_ms"]) / first["p99_ms"], 2),
        "events_posted": load.posted * EVENTS_PER_POST,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    return {"summary": summary, "ramp": ramp, "windows": windows, "shop": asdict(shop)}


def _window(
    port: int, headers: dict[str, str], load: MixedLoad, rate: float, connections: int,
    seconds: float,
) -> dict[str, Any]:  # fmt: skip
    requests = load.requests(int(rate * seconds) + 1)
    result = run_load("127.0.0.1", port, requests, headers, concurrency=connections,
                      max_requests=len(requests), max_seconds=seconds, rate_per_s=rate)  # fmt: skip
    summary = result.summary()
    return {
        "requests": result.sent,
        "ok": result.ok,
        "seconds": round(result.seconds, 1),
        "requests_per_s": summary["per_s"],
        "p50_ms": summary["p50_ms"],
        "p99_ms": summary["p99_ms"],
        "server_errors": server_errors(result),
        "failed": result.failed,
    }


def protocol_of(plan: SoakPlan, found: dict[str, Any]) -> dict[str, Any]:
    shop = found["shop"]
    return {
        "benchmark": "soak",
        "method": "real `tailor serve` on 127.0.0.1 (SQLite, admin key, rate limits raised); mix "
        "60% recommendations / 20% profiles / 20% event posts of 10 new events; maximum from a "
        f"closed-loop ramp over {list(RAMP_CONNECTIONS)} connections ({plan.ramp_seconds:.0f} s "
        f"each); every user's recommendations and profile once, then {plan.warmup_seconds:.0f} s "
        f"warm-up; then {plan.minutes:g} min paced at {plan.share:.0%} of the maximum in windows "
        f"of {plan.window_seconds:.0f} s (benchmarks/loadgen.py)",
        "goals": "0 5xx; server RSS growth <= 10% (last window vs after warm-up); "
        "p99 drift <= 20% (last window vs first)",
        "data": f"generate_shop({plan.users}, {plan.items}, days=30, seed={plan.seed}): "
        f"{shop['n_events']:,} events; models {shop['models']}",
        "data_fingerprint": shop["data_fingerprint"],
        "seed": plan.seed,
        "wall_seconds": found["summary"]["wall_seconds"],
        "peak_mem_mb_benchmark_process": peak_rss_mb(),
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = SoakPlan()
    parser.add_argument("--short", action="store_true", help="the CI size (overrides the rest)")
    parser.add_argument("--minutes", type=float, default=defaults.minutes)
    parser.add_argument("--window-seconds", type=float, default=defaults.window_seconds)
    parser.add_argument("--warmup-seconds", type=float, default=defaults.warmup_seconds)
    parser.add_argument("--ramp-seconds", type=float, default=defaults.ramp_seconds)
    parser.add_argument("--share", type=float, default=defaults.share, help="of the maximum")
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--items", type=int, default=defaults.items)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    plan = SoakPlan.short(args.seed) if args.short else SoakPlan(
        minutes=args.minutes, window_seconds=args.window_seconds,
        warmup_seconds=args.warmup_seconds, ramp_seconds=args.ramp_seconds, share=args.share,
        users=args.users, items=args.items, seed=args.seed,
    )  # fmt: skip
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="tailor-soak-") as tmp:
        found = soak(Path(tmp), plan)
    protocol = {**protocol_of(plan, found), "load_average_1m_before": load_before,
                "ramp": found["ramp"], "summary": found["summary"]}  # fmt: skip
    columns = ["window", "requests", "requests_per_s", "p50_ms", "p99_ms", "server_errors", "failed",
               "server_rss_mb"]  # fmt: skip
    print_report("Tailor soak", protocol, found["windows"], columns)
    if args.json:
        write_json(args.json, protocol, found["windows"])


if __name__ == "__main__":
    main()
