"""Ingestion benchmark: a bulk file import into SQLite, and HTTP batches against a real uvicorn.

1. File import: the MovieLens-1M events (1,000,209 ratings) read, validated and written into a
   fresh SQLite store through `tailor.ingest.datasets.import_dataset`. Goal: <= 10 s.
2. HTTP: `tailor serve` runs as its own process on 127.0.0.1 with a fresh SQLite store; separate
   client processes POST pre-serialised batches of events to /v1/events (bounded in count and
   time). Events/s counts only acknowledged events, from the first send to the last answer.
   Durability is checked afterwards: every acknowledged event must be in the store. Goal: >= 20,000/s.

    .venv/bin/python benchmarks/ingest.py --movielens ../shared/datasets/ml-1m --json /tmp/ingest.json
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.datasets import import_dataset
from tailor.service.auth import create_key
from tailor.settings import load_settings
from tailor.store import open_store

KINDS = ("view", "view", "view", "click", "favorite", "cart", "purchase")


def bench_file_import(movielens_dir: Path, workdir: Path) -> dict:
    store = open_store(f"sqlite:///{workdir / 'file-import.db'}")
    settings = load_settings(path=None)
    start = time.perf_counter()
    report = import_dataset(store, "movielens", movielens_dir, settings.ingest)
    seconds = time.perf_counter() - start
    stored = store.counts()["events"]
    store.close()
    return {
        "stage": "file import (MovieLens-1M -> SQLite)",
        "events": stored,
        "seconds": round(seconds, 2),
        "file_import_events_per_s": round(stored / seconds),
        "report": str(report),
    }


def _batches(client: int, n_batches: int, batch_size: int) -> list[bytes]:
    """Pre-serialised bodies, so the client measures the server and not its own JSON encoding."""
    bodies = []
    base_ts = 1_767_225_600_000  # 2026-01-01 UTC, in ms
    for b in range(n_batches):
        rows = []
        for j in range(batch_size):
            n = (b * batch_size + j)
            rows.append({
                "event_id": f"c{client}-b{b}-{j}",
                "user_id": f"u{(n * 7919 + client) % 50_000}",
                "item_id": f"i{(n * 104_729) % 20_000}",
                "kind": KINDS[n % len(KINDS)],
                "ts": base_ts + n * 1000,
                "channel": "app",
            })
        bodies.append(orjson.dumps(rows))
    return bodies


def _client(args: tuple[int, int, str, int, int, float]) -> tuple[int, int, float, float]:
    """One load process: posts its batches in order; returns (acknowledged, failed, first, last)."""
    client, port, key, n_batches, batch_size, deadline = args
    bodies = _batches(client, n_batches, batch_size)
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    acked = failed = 0
    first = time.time()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60.0) as http:
        for body in bodies:
            if time.time() > deadline:
                break
            answer = http.post("/v1/events", content=body, headers=headers)
            if answer.status_code == 200:
                acked += answer.json()["accepted"]
            else:
                failed += batch_size
    return acked, failed, first, time.time()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(workdir: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "TAILOR_STORE_URL": f"sqlite:///{workdir / 'http.db'}",
        "TAILOR_ARTIFACTS_DIR": str(workdir / "artifacts"),
    }
    tailor = Path(sys.executable).with_name("tailor")
    server = subprocess.Popen(
        [str(tailor), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code in (200, 503):
                return server
        except httpx.TransportError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise RuntimeError(f"tailor serve exited: {server.stderr.read().decode()[-2000:]}")
    server.kill()
    raise RuntimeError("tailor serve did not answer within 60 s")


def bench_http(workdir: Path, clients: int, batches: int, batch_size: int, max_seconds: float) -> dict:
    """Authenticated like a production client: one `ingest` key, under its role's rate limit."""
    with open_store(f"sqlite:///{workdir / 'http.db'}") as store:
        key, _ = create_key(store, "ingest", name="benchmark")
    port = _free_port()
    server = _start_server(workdir, port)
    try:
        deadline = time.time() + max_seconds
        jobs = [(c, port, key, batches, batch_size, deadline) for c in range(clients)]
        with mp.get_context("spawn").Pool(clients) as pool:
            results = pool.map(_client, jobs)
    finally:
        server.terminate()
        server.wait(timeout=30)
    acked = sum(r[0] for r in results)
    failed = sum(r[1] for r in results)
    seconds = max(r[3] for r in results) - min(r[2] for r in results)
    with open_store(f"sqlite:///{workdir / 'http.db'}") as store:
        stored = store.counts()["events"]
    return {
        "stage": f"HTTP batches of {batch_size:,} ({clients} client processes)",
        "events": acked,
        "seconds": round(seconds, 2),
        "http_batch_events_per_s": round(acked / seconds),
        "failed_events": failed,
        "stored_after_restart": stored,
        "durable": stored == acked,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--movielens", type=Path, help="MovieLens-1M directory (skip the file stage without it)")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--batches", type=int, default=40, help="batches per client")
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--max-seconds", type=float, default=120.0, help="bound on the HTTP stage")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="tailor-ingest-") as tmp:
        workdir = Path(tmp)
        if args.movielens:
            rows.append(bench_file_import(args.movielens, workdir))
        rows.append(bench_http(workdir, args.clients, args.batches, args.batch_size, args.max_seconds))
    protocol = {
        "benchmark": "ingest",
        "file_stage": "MovieLens-1M via import_dataset into a fresh SQLite store (WAL, synchronous=FULL)",
        "http_stage": "real uvicorn (`tailor serve`, one process) on 127.0.0.1, fresh SQLite store, "
                      "pre-serialised JSON batches from separate client processes; only acknowledged events count",
        "data": str(args.movielens) if args.movielens else "generated events (deterministic)",
        "seed": "deterministic (no randomness)",
        "peak_mem_mb_benchmark_process": peak_rss_mb(),
        "machine": machine(),
    }
    columns = ["stage", "events", "seconds", "file_import_events_per_s", "http_batch_events_per_s", "failed_events", "durable"]
    print_report("Tailor ingestion", protocol, rows, columns)
    if args.json:
        write_json(args.json, protocol, [{k: v for k, v in r.items() if k != "report"} for r in rows])


if __name__ == "__main__":
    main()
