"""Serving benchmark: a real uvicorn under load from a separate process, on a 100k x 100k synthetic shop.

1. Build (cached under --workdir, keyed by a fingerprint of the shop's size and seed, the source
   of the generator, the store and the training code, and the train settings): the synthetic shop
   (`generate_shop`) stored in SQLite, then `Engine.train` on it with the full pipeline's models
   (`MODELS`: the configured retrieval sources and the sequence Transformer) and the ranker.
2. Serve: `tailor serve --workers N` (N processes on one port, SO_REUSEPORT) on 127.0.0.1, a free
   port, on a fresh copy of the store, with a read key and an ingest key (rate limits raised
   above the load).
3. Load, from other processes (`benchmarks/loadgen.py`, bounded in requests and in time):
   GET /v1/users/{id}/recommendations for random users of the shop, after a warm-up. A closed
   loop at a fixed concurrency -> recs_per_s, p50_ms, p99_ms (the most it answers). An open loop
   paced at --rate, latency counted from when each request was due -> paced_per_s, paced_p99_ms
   (what "500 requests/s at p99 <= 50 ms" asks). Then the closed loop while another process
   POSTs batches of events -> ingest_events_per_s. Then, still under the read load, freshness:
   post a `view` of the item at the top of a user's list and poll that user's list until it
   differs -> seconds from the POST to the changed answer (the worst of the trials).

    .venv/bin/python benchmarks/serving.py --json /tmp/serving.json           # 100k x 100k
    .venv/bin/python benchmarks/serving.py --scale smoke                      # 10k x 10k
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from loadgen import LoadResult, Request, run_load

from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.service.auth import create_key
from tailor.settings import Role, load_settings
from tailor.store import open_store

SCALES = {"full": (100_000, 100_000), "smoke": (10_000, 10_000)}
SRC = Path(__file__).resolve().parents[1] / "src" / "tailor"
# Sources whose change invalidates a cached shop (first) or a cached artifact (both).
SHOP_SOURCES = ("ingest/synthetic.py", "ingest/shop_sessions.py", "ingest/shop_words.py", "store/schema.py")
# The full pipeline: the sequence Transformer retrieves beside the configured sources (EASE's
# dense 100k x 100k weights would be skipped anyway). It reads item ids and event kinds, not
# text: encoding 100k synthetic titles would add to the build without telling serving anything
# new, and 3 epochs bound its training (about 12 minutes at 100k users).
MODELS = ("popular", "itemknn", "als", "cobought", "transformer")
MODEL_PARAMS = {"transformer": {"text": False, "epochs": 3, "validation_users": 0}}
TRAIN_SOURCES = ("ingest", "store", "data", "models", "rank", "engine", "text", "artifacts.py",
                 "settings.py", "types.py")
UNLIMITED = {"per_second": 1_000_000, "burst": 1_000_000}
INGEST_KINDS = ("view", "view", "view", "click", "favorite", "cart", "purchase")


@dataclass(frozen=True)
class Build:
    folder: Path
    store_file: Path
    artifacts_dir: Path
    user_ids: list[str]
    item_ids: list[str]
    manifest: dict[str, Any]
    build_seconds: float | None  # None when reused


def _source_hash(names: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for name in names:
        path = SRC / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(str(file.relative_to(SRC)).encode() + file.read_bytes())
    return digest.hexdigest()[:12]


def _fingerprint(values: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def _toml(values: dict[str, Any], prefix: str = "") -> str:
    """The few TOML shapes the settings here need: scalars, lists, nested tables."""
    plain = {k: v for k, v in values.items() if not isinstance(v, dict)}
    lines = [f"[{prefix}]"] if prefix and plain else []
    lines += [f"{k} = {json.dumps(v)}" for k, v in plain.items()]
    for key, value in values.items():
        if isinstance(value, dict):
            lines.append(_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(lines)


def build(workdir: Path, n_users: int, n_items: int, args: argparse.Namespace) -> Build:
    """The stored shop and its trained artifact, reused when their fingerprints match."""
    shop_key = {"users": n_users, "items": n_items, "days": args.days, "seed": args.seed,
                "source": _source_hash(SHOP_SOURCES)}  # fmt: skip
    folder = workdir / f"shop-{_fingerprint(shop_key)}"
    train: dict[str, Any] = {"random_state": args.seed}
    if args.models:
        train["models"] = args.models.split(",")
    if args.model_params:
        train["model_params"] = json.loads(args.model_params)
    train_key = {**shop_key, "train": train, "evaluate": args.evaluate,
                 "source": _source_hash(SHOP_SOURCES + TRAIN_SOURCES)}  # fmt: skip
    trained_with = _fingerprint({"train": train, "evaluate": args.evaluate})
    artifacts_dir = folder / f"artifacts-{_fingerprint(train_key)}-{trained_with}"
    if args.reuse_artifact:  # the newest one trained with these settings, whatever the code then
        trained = sorted(folder.glob(f"artifacts-*-{trained_with}/CURRENT"),
                         key=lambda p: p.stat().st_mtime)  # fmt: skip
        artifacts_dir = trained[-1].parent if trained else artifacts_dir
    config = folder / f"{artifacts_dir.name}.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(_toml({"store_url": f"sqlite:///{folder / 'tailor.db'}",
                             "artifacts_dir": str(artifacts_dir), "train": train}))  # fmt: skip
    settings = load_settings(config)
    start = time.perf_counter()
    built = False
    with Engine(settings) as engine:
        if not (folder / "stored").exists():
            _store_shop(engine, n_users, n_items, args)
            (folder / "stored").write_text(json.dumps(shop_key))
            built = True
        if (artifacts_dir / "CURRENT").exists():
            manifest = engine.load().model_dump()
        else:
            print(f"training {settings.train.models} ...", flush=True)
            manifest = engine.train(_progress, evaluate=args.evaluate).model_dump()
            built = True
        ids = {"users": engine.store.users()["user_id"].astype(str).tolist(),
               "items": engine.store.items()["item_id"].astype(str).tolist()}  # fmt: skip
    return Build(
        folder=folder,
        store_file=folder / "tailor.db",
        artifacts_dir=artifacts_dir,
        user_ids=ids["users"],
        item_ids=ids["items"],
        manifest=manifest,
        build_seconds=round(time.perf_counter() - start, 1) if built else None,
    )


def _store_shop(engine: Engine, n_users: int, n_items: int, args: argparse.Namespace) -> None:
    shop = generate_shop(n_users, n_items, days=args.days, seed=args.seed)
    print(f"storing the shop: {len(shop.events):,} events", flush=True)
    engine.put_items(shop.items)
    engine.put_users(shop.users)
    engine.ingest_events(shop.events)


def _progress(step: str, done: int, total: int | None) -> None:
    print(f"  {step} ({done}/{total if total is not None else '?'})", flush=True)


# ---- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_run(built: Build, run_dir: Path) -> tuple[Path, dict[str, str]]:
    """A fresh copy of the store (the load writes events into it), its config and two keys."""
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    with sqlite3.connect(built.store_file) as cached:  # the copy must hold what the WAL holds
        cached.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(built.store_file, run_dir / "tailor.db")
    config = run_dir / "tailor.toml"
    config.write_text(_toml({
        "store_url": f"sqlite:///{run_dir / 'tailor.db'}",
        "artifacts_dir": str(built.artifacts_dir),
        "service": {"rate_limits": {"read": UNLIMITED, "ingest": UNLIMITED}},
    }))  # fmt: skip
    with open_store(f"sqlite:///{run_dir / 'tailor.db'}") as store:
        keys = {role: create_key(store, Role(role), f"bench-{role}")[0] for role in ("read", "ingest")}
    return config, keys


def start_server(run_dir: Path, port: int, workers: int) -> subprocess.Popen:
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "tailor"), "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    log = (run_dir / "server.log").open("wb")
    server = subprocess.Popen(command, cwd=run_dir, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    in_a_row = 0  # each new connection reaches a worker at random: every one must be warm
    while time.time() < deadline:
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0)
            ready = health.status_code == 200 and health.json()["model_version"]
            warm = ready and not health.json().get("warming_up")  # a warm-up would share the CPU
            in_a_row = in_a_row + 1 if warm else 0
            if in_a_row >= 8 * workers:
                return server
            if warm:
                continue
        except httpx.TransportError:
            in_a_row = 0
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {(run_dir / 'server.log').read_text()[-3000:]}")
        time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not serve a warmed-up model within 300 s")


def _family(pid: int) -> list[int]:
    """A process and its children (the server's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its children have used so far."""
    ticks = 0
    for one in _family(pid):
        fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float:
    """Peak resident memory of a process and its children (uvicorn workers), in MB."""
    total = 0.0
    for one in _family(pid):
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024.0
    return round(total, 1)


# ---- load ----------------------------------------------------------------------------------------


def _recommendation_requests(user_ids: list[str], n: int, seed: int) -> list[Request]:
    chosen = np.random.default_rng(seed).integers(0, len(user_ids), n)
    return [("GET", f"/v1/users/{user_ids[u]}/recommendations", b"") for u in chosen]


def _event_batches(built: Build, n_batches: int, batch_size: int, seed: int) -> list[Request]:
    rng = np.random.default_rng(seed)
    now_ms = int(time.time() * 1000)
    bodies = []
    for b in range(n_batches):
        users = rng.integers(0, len(built.user_ids), batch_size)
        items = rng.integers(0, len(built.item_ids), batch_size)
        kinds = rng.integers(0, len(INGEST_KINDS), batch_size)
        rows = [{"event_id": f"bench-{seed}-{b}-{j}", "user_id": built.user_ids[u],
                 "item_id": built.item_ids[i], "kind": INGEST_KINDS[k], "ts": now_ms + j,
                 "channel": "app"}
                for j, (u, i, k) in enumerate(zip(users, items, kinds))]  # fmt: skip
        bodies.append(("POST", "/v1/events", orjson.dumps(rows)))
    return bodies


def load_job(job: dict[str, Any]) -> LoadResult:
    """One load process (run through multiprocessing, so never in the server's process)."""
    return run_load("127.0.0.1", job["port"], job["requests"],
                    {"Authorization": f"Bearer {job['key']}"},
                    concurrency=job["concurrency"], max_requests=job["max_requests"],
                    max_seconds=job["max_seconds"], keep_bodies=job.get("keep_bodies", False),
                    rate_per_s=job.get("rate_per_s"))  # fmt: skip


def freshness(port: int, keys: dict[str, str], user_ids: list[str], trials: int, seed: int) -> list[float]:
    """Seconds from posting a view of a user's top item to that user's first changed answer."""
    rng = np.random.default_rng(seed + 1)
    read, ingest = ({"Authorization": f"Bearer {keys[role]}"} for role in ("read", "ingest"))
    times = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as http:

        def top(url: str) -> list[str]:
            answer = http.get(url, headers=read).raise_for_status().json()
            return [item["item_id"] for item in answer["items"]]

        for user in rng.choice(user_ids, trials, replace=False):
            url = f"/v1/users/{user}/recommendations"
            before = top(url)
            start = time.perf_counter()
            event = {"user_id": str(user), "item_id": before[0], "kind": "view",
                     "ts": int(time.time() * 1000), "channel": "app"}  # fmt: skip
            posted = http.post("/v1/events", json=event, headers=ingest).raise_for_status()
            assert posted.json()["accepted"] == 1, posted.text
            while time.perf_counter() - start < 10.0:
                after = top(url)
                if after != before:
                    times.append(time.perf_counter() - start)
                    break
            else:
                times.append(float("inf"))
    return times


def measure(
    built: Build, server: int, port: int, keys: dict[str, str], args: argparse.Namespace
) -> dict:
    reads = _recommendation_requests(built.user_ids, args.requests, args.seed)
    read_job = {"port": port, "key": keys["read"], "requests": reads,
                "concurrency": args.concurrency, "max_requests": args.requests,
                "max_seconds": args.seconds}  # fmt: skip
    batches = _event_batches(built, args.ingest_batches, args.batch_size, args.seed)
    ingest_job = {"port": port, "key": keys["ingest"], "requests": batches, "keep_bodies": True,
                  "concurrency": args.ingest_concurrency, "max_requests": len(batches),
                  "max_seconds": args.seconds}  # fmt: skip
    paced_job = {**read_job, "concurrency": args.paced_concurrency, "rate_per_s": args.rate}
    with mp.get_context("spawn").Pool(2) as pool:
        warm = pool.apply(load_job, ({**read_job, "max_requests": args.warmup},))
        cpu_before = _cpu_seconds(server)
        alone = pool.apply(load_job, (read_job,))
        server_cpu = _cpu_seconds(server) - cpu_before
        paced = pool.apply(load_job, (paced_job,))
        mixed_reads = pool.apply_async(load_job, (read_job,))
        ingest = pool.apply(load_job, (ingest_job,))
        mixed_reads = mixed_reads.get()
        background = pool.apply_async(load_job, ({**read_job, "max_seconds": args.seconds},))
        fresh = freshness(port, keys, built.user_ids, args.freshness_trials, args.seed)
        background = background.get()
    accepted = sum(orjson.loads(body)["accepted"] for body in ingest.bodies)
    return {"warmup": warm, "reads": alone, "paced": paced, "mixed_reads": mixed_reads, "ingest": ingest,
            "ingest_accepted": accepted, "fresh": fresh, "fresh_reads": background,
            "server_cpu_per_request_ms": round(1000 * server_cpu / max(alone.sent, 1), 2)}  # fmt: skip


def _row(built: Build, found: dict, args: argparse.Namespace, n_users: int, n_items: int) -> dict:
    reads, paced, mixed, ingest = (
        found[k].summary() for k in ("reads", "paced", "mixed_reads", "ingest")
    )
    fresh = np.asarray(found["fresh"])
    return {
        "stage": f"{n_users:,} users x {n_items:,} items, {args.workers} worker(s), "
                 f"concurrency {args.concurrency}",
        "recs_per_s": reads["per_s"],
        "p50_ms": reads["p50_ms"],
        "p99_ms": reads["p99_ms"],
        "server_cpu_per_request_ms": found["server_cpu_per_request_ms"],
        "paced_rate_per_s": args.rate,
        "paced_per_s": paced["per_s"],
        "paced_p50_ms": paced["p50_ms"],
        "paced_p99_ms": paced["p99_ms"],
        "failed_requests": reads["failed"] + paced["failed"] + mixed["failed"] + ingest["failed"],
        "ingest_events_per_s": round(found["ingest_accepted"] / found["ingest"].seconds),
        "during_ingest_recs_per_s": mixed["per_s"],
        "during_ingest_p99_ms": mixed["p99_ms"],
        "freshness_seconds": round(float(fresh.max()), 4),
        "freshness_p50_seconds": round(float(np.median(fresh)), 4),
        "n_items": n_items,
        "n_users": n_users,
        "n_events": built.manifest["n_events"],
        "reads": reads,
        "paced_reads": paced,
        "reads_during_ingest": mixed,
        "ingest": {**ingest, "events_accepted": found["ingest_accepted"]},
        "reads_during_freshness": found["fresh_reads"].summary(),
        "warmup": found["warmup"].summary(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full", help="full: 100k x 100k, smoke: 10k x 10k")
    parser.add_argument("--users", type=int, help="overrides --scale")
    parser.add_argument("--items", type=int, help="overrides --scale")
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated train.models (default: the configured ones, EASE out, the Transformer in)")
    parser.add_argument("--model-params", default=json.dumps(MODEL_PARAMS), help="JSON train.model_params")
    parser.add_argument("--evaluate", action="store_true", help="also evaluate on the time holdout when training")
    parser.add_argument("--reuse-artifact", action="store_true",
                        help="serve the newest artifact trained on this shop with these settings even if "
                             "the training code changed since (the protocol says so)")
    parser.add_argument("--workdir", type=Path, default=Path("var/bench-serving"), help="cached builds and runs")
    parser.add_argument("--workers", type=int, default=2, help="server processes (tailor serve --workers)")
    parser.add_argument("--concurrency", type=int, default=16, help="connections of the closed-loop read load")
    parser.add_argument("--rate", type=float, default=500.0, help="requests/s of the paced (open-loop) read phase")
    parser.add_argument("--paced-concurrency", type=int, default=64, help="connections the paced phase may use")
    parser.add_argument("--requests", type=int, default=30_000, help="bound on requests per read phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="bound on each phase's time")
    parser.add_argument("--warmup", type=int, default=1_000)
    parser.add_argument("--ingest-batches", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--ingest-concurrency", type=int, default=2)
    parser.add_argument("--freshness-trials", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    n_users, n_items = SCALES[args.scale]
    n_users, n_items = args.users or n_users, args.items or n_items
    started = time.perf_counter()
    built = build(args.workdir.resolve(), n_users, n_items, args)
    config, keys = prepare_run(built, built.folder / "run")
    port = _free_port()
    load_before = round(os.getloadavg()[0], 2)
    server = start_server(config.parent, port, args.workers)
    try:
        found = measure(built, server.pid, port, keys, args)
        server_mb = _peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)
    row = _row(built, found, args, n_users, n_items)
    manifest = built.manifest
    protocol = {
        "benchmark": "serving: GET /v1/users/{id}/recommendations on a real uvicorn, load from other processes",
        "server": f"tailor serve --workers {args.workers} on 127.0.0.1 (SO_REUSEPORT), SQLite store (fresh copy per run), auth on (read and ingest "
                  "keys, rate limits raised above the load), JSON request log to a file",
        "load": f"closed loop, {args.concurrency} keep-alive connections, random users of the shop, default "
                f"k and rules; {args.warmup} warm-up requests, then each phase bounded by {args.requests:,} "
                f"requests and {args.seconds:.0f} s (benchmarks/loadgen.py, raw asyncio sockets)",
        "paced": f"open loop: a request due every 1/{args.rate:g} s on up to {args.paced_concurrency} "
                 "connections, latency counted from when each was due; bounded like the closed loop",
        "ingest": f"POST /v1/events, batches of {args.batch_size:,} new events, {args.ingest_concurrency} "
                  f"connections, at most {args.ingest_batches} batches, during the read load",
        "freshness": f"{args.freshness_trials} users, during the read load: a `view` of the user's top item "
                     "is posted, then the user's list is polled until it differs; worst and median trial",
        "data": f"generate_shop({n_users}, {n_items}, days={args.days}, seed={args.seed}): "
                f"{manifest['n_events']:,} events",
        "data_fingerprint": manifest["data_fingerprint"],
        "seed": args.seed,
        "model_version": manifest["version"],
        "artifact": built.artifacts_dir.name + (" (--reuse-artifact)" if args.reuse_artifact else ""),
        "models": manifest["models"],
        "skipped_models": manifest["skipped"],
        "train_seconds": manifest["train_seconds"],
        "build_seconds": built.build_seconds if built.build_seconds is not None else "reused cached build",
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_mem_mb_benchmark_process": peak_rss_mb(),
        "peak_mem_mb_server_processes": server_mb,
        "load_average_1m_before_serving": load_before,
        "goals": "must 500 recommendations/s at p99 <= 50 ms (closed loop: recs_per_s, p99_ms; open loop at "
                 "--rate 500: paced_per_s, paced_p99_ms); target 1,000/s at p99 <= 30 ms; ingest >= 50,000 "
                 "events/s; freshness <= 1 s",
        "machine": machine(),
    }
    columns = ["stage", "recs_per_s", "p50_ms", "p99_ms", "server_cpu_per_request_ms", "paced_rate_per_s", "paced_per_s",
               "paced_p50_ms", "paced_p99_ms", "failed_requests", "ingest_events_per_s",
               "during_ingest_recs_per_s", "during_ingest_p99_ms", "freshness_seconds"]
    print_report("Tailor serving", protocol, [row], columns)
    if args.json:
        write_json(args.json, protocol, [row])


if __name__ == "__main__":
    main()
