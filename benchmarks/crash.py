"""Crash safety: SIGKILL a real `tailor serve` again and again while clients stream events into it.

4 client processes (bounded in events and time) POST batches of events with their own
`event_id`s to /v1/events on 127.0.0.1, authenticated with an `ingest` key. The harness kills the
server with SIGKILL at a random moment after it answers, restarts it, and repeats. A client that
gets no 2xx answer (connection refused or reset, 5xx, 429) sends the same batch, with the same
event ids, again until one is acknowledged. After the last kill the server runs until every
client has its last batch acknowledged, then the store is opened and checked:

- lost: events acknowledged with 2xx but not in the store (must be 0);
- duplicates: event ids stored more than once (must be 0);
- mismatched: acknowledged events stored with other fields than were sent (must be 0);
- integrity: SQLite `PRAGMA integrity_check`; on PostgreSQL, no repeated event id and no invalid
  index (`Store.check_integrity`).

PostgreSQL runs in a fresh database (`tailor_crash_<pid>_<hex>`, dropped afterwards) on
127.0.0.1:5432 as user postgres.

    .venv/bin/python benchmarks/crash.py --kills 100 --json /tmp/crash.json
    .venv/bin/python benchmarks/crash.py --kills 10 --backends sqlite     # the CI size
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import psycopg

from tailor.evaluation.report import machine, print_report, write_json
from tailor.service.auth import create_key
from tailor.settings import Role
from tailor.store import open_store

CLIENTS = 4
KINDS = ("view", "view", "view", "click", "favorite", "cart", "purchase")
BASE_TS = 1_767_225_600_000  # 2026-01-01 UTC, in ms
POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
STARTUP_SECONDS = 180.0  # only a hang bound: a loaded 2-core machine takes a minute to import the app
RETRY_PAUSE_SECONDS = 0.05


def event(client: int, seq: int) -> dict[str, object]:
    """The event a client sends as its `seq`-th: a pure function, so the check can rebuild it."""
    return {
        "event_id": f"c{client}-{seq}",
        "user_id": f"u{client}-{seq % 37}" if seq % 5 else f"用户{seq % 11}",
        "item_id": f"i{(seq * 7919 + client) % 500}",
        "kind": KINDS[seq % len(KINDS)],
        "ts": BASE_TS + seq * 1000,
        "channel": "app",
    }


@dataclass(frozen=True)
class ClientJob:
    client: int
    port: int
    key: str
    max_events: int
    max_batch: int
    stop_file: Path
    deadline: float  # time.time() after which the client gives up (a run that hangs fails)
    seed: int


@dataclass
class ClientLog:
    acknowledged: list[int] = field(default_factory=list)  # seqs answered with 2xx
    refused: list[str] = field(default_factory=list)  # 4xx answers other than 429: a bug
    attempts: int = 0
    unanswered: int = 0  # sends that got no 2xx (server down, killed mid-request, 5xx, 429)
    gave_up: bool = False  # the deadline passed with a batch still unacknowledged


def run_client(job: ClientJob) -> ClientLog:
    """Send batches until told to stop or out of events; retry each until it is acknowledged."""
    rng = random.Random(job.seed * 1_000 + job.client)
    headers = {"content-type": "application/json", "authorization": f"Bearer {job.key}"}
    log = ClientLog()
    seq = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{job.port}", timeout=10.0) as http:
        while seq < job.max_events and not job.stop_file.exists():
            size = min(rng.randint(1, job.max_batch), job.max_events - seq)
            batch = list(range(seq, seq + size))
            body = orjson.dumps([event(job.client, s) for s in batch])
            outcome = _send_until_answered(http, body, headers, job.deadline, log)
            if outcome is None:
                log.gave_up = True
                break
            if outcome:
                log.acknowledged.extend(batch)
            seq += size
    return log


def _send_until_answered(
    http: httpx.Client, body: bytes, headers: dict[str, str], deadline: float, log: ClientLog
) -> bool | None:
    """True once acknowledged, False if refused with a 4xx, None if the deadline passed."""
    while time.time() < deadline:
        log.attempts += 1
        try:
            answer = http.post("/v1/events", content=body, headers=headers)
        except httpx.TransportError:
            answer = None
        if answer is not None and answer.is_success:
            outcome = answer.json()
            if outcome["rejected"]:
                log.refused.append(f"rows rejected: {outcome['rejected'][:3]}")
            return True
        if answer is not None and answer.status_code != 429 and answer.status_code < 500:
            log.refused.append(f"{answer.status_code}: {answer.text[:300]}")
            return False
        log.unanswered += 1
        time.sleep(RETRY_PAUSE_SECONDS)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tailor serve` as a child process, started and SIGKILLed on demand."""

    def __init__(
        self, store_url: str, workdir: Path, port: int, env: dict[str, str] | None = None
    ) -> None:
        self.port = port
        self.workdir = workdir
        self.log_path = workdir / "server.log"
        self.env = {
            **os.environ,
            "TAILOR_STORE_URL": store_url,
            "TAILOR_ARTIFACTS_DIR": str(workdir / "artifacts"),
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        tailor = Path(sys.executable).with_name("tailor")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(tailor), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.time() + STARTUP_SECONDS
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tailor serve exited at start; log:\n{self._log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1.0).is_success:
                    return
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"tailor serve did not answer within {STARTUP_SECONDS:.0f} s")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def _log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def crash_run(
    store_url: str,
    workdir: Path,
    *,
    kills: int,
    max_uptime: float,
    max_events: int,
    max_batch: int,
    max_seconds: float,
    seed: int,
) -> dict[str, object]:
    """Stream, kill `kills` times, let the clients finish, then check the store."""
    with open_store(store_url) as store:
        key, _ = create_key(store, Role.ingest, "crash-harness")
    rng = random.Random(seed)
    stop_file = workdir / "stop"
    server = Server(store_url, workdir, free_port())
    deadline = time.time() + max_seconds
    jobs = [
        ClientJob(c, server.port, key, max_events, max_batch, stop_file, deadline, seed)
        for c in range(CLIENTS)
    ]
    start = time.perf_counter()
    with mp.get_context("spawn").Pool(CLIENTS) as pool:
        pending = pool.map_async(run_client, jobs)
        try:
            for _ in range(kills):
                server.start()
                time.sleep(rng.uniform(0.0, max_uptime))
                server.kill()
            server.start()
            stop_file.touch()
            logs: list[ClientLog] = pending.get(timeout=max(deadline - time.time(), 0) + 30)
        finally:
            server.stop()
    seconds = time.perf_counter() - start
    return {"kills": kills, **check_store(store_url, logs), "wall_seconds": round(seconds, 1)}


def check_store(store_url: str, logs: list[ClientLog]) -> dict[str, object]:
    """Compare what the clients saw acknowledged with what the store holds."""
    with open_store(store_url) as store:
        stored = store.events()
        problems = store.check_integrity()
    rows = {
        event_id: (user_id, item_id, kind, int(ts))
        for event_id, user_id, item_id, kind, ts in zip(
            stored["event_id"], stored["user_id"], stored["item_id"], stored["kind"], stored["ts"]
        )
    }
    acknowledged = {(c, s) for c, log in enumerate(logs) for s in log.acknowledged}
    lost = mismatched = 0
    for client, seq in acknowledged:
        sent = event(client, seq)
        row = rows.get(sent["event_id"])
        if row is None:
            lost += 1
        elif row != (sent["user_id"], sent["item_id"], sent["kind"], sent["ts"]):
            mismatched += 1
    refused = [message for log in logs for message in log.refused]
    return {
        "acknowledged": len(acknowledged),
        "stored": len(stored),
        "lost": lost,
        "duplicates": int(stored["event_id"].duplicated().sum()),
        "mismatched": mismatched,
        "stored_unacknowledged": len(rows) - (len(acknowledged) - lost),
        "integrity": "ok" if not problems else "; ".join(problems[:5]),
        "refused": len(refused),
        "refused_examples": refused[:3],
        "retried_sends": sum(log.unanswered for log in logs),
        "clients_gave_up": sum(log.gave_up for log in logs),
    }


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one run, dropped afterwards."""
    name = f"tailor_crash_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def store_for(backend: str, workdir: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{workdir / 'tailor.db'}"
    else:
        with postgres_database() as url:
            yield url


def passed(row: dict[str, object]) -> bool:
    return (
        row["lost"] == 0
        and row["duplicates"] == 0
        and row["mismatched"] == 0
        and row["integrity"] == "ok"
        and row["refused"] == 0
        and row["clients_gave_up"] == 0
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs per backend")
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])
    parser.add_argument("--max-uptime", type=float, default=1.0,
                        help="the server is killed uniformly within this many seconds of answering")
    parser.add_argument("--max-events", type=int, default=200_000, help="per client")
    parser.add_argument("--max-batch", type=int, default=50, help="events per request, 1 to this")
    parser.add_argument("--max-seconds", type=float, default=3_600.0, help="per backend")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    rows = []
    for backend in args.backends:
        with tempfile.TemporaryDirectory(prefix=f"tailor-crash-{backend}-") as tmp:
            workdir = Path(tmp)
            with store_for(backend, workdir) as url:
                result = crash_run(
                    url,
                    workdir,
                    kills=args.kills,
                    max_uptime=args.max_uptime,
                    max_events=args.max_events,
                    max_batch=args.max_batch,
                    max_seconds=args.max_seconds,
                    seed=args.seed,
                )
        rows.append({"backend": backend, **result, "passed": passed(result)})
    protocol = {
        "benchmark": "crash safety",
        "method": f"real `tailor serve` (uvicorn) on 127.0.0.1, {CLIENTS} client processes posting "
        f"batches of 1-{args.max_batch} events with their own event_id, retried with the same ids "
        f"until a 2xx; SIGKILL uniformly within {args.max_uptime} s of the server answering "
        "/healthz, then restart",
        "checks": "lost = acknowledged but not stored; duplicates = event_id stored twice; "
        "mismatched = stored fields differ from those sent; integrity = PRAGMA integrity_check "
        "(SQLite) / repeated ids and invalid indexes (PostgreSQL)",
        "seed": args.seed,
        "machine": machine(),
    }
    columns = ["backend", "kills", "acknowledged", "stored", "lost", "duplicates", "mismatched",
               "integrity", "retried_sends", "wall_seconds", "passed"]
    print_report("Tailor crash safety", protocol, rows, columns)
    if args.json:
        write_json(args.json, protocol, rows)
    sys.exit(0 if all(row["passed"] for row in rows) else 1)


if __name__ == "__main__":
    main()
