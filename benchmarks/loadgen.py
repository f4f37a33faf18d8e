"""A bounded closed-loop HTTP/1.1 load generator on raw asyncio streams with keep-alive.

`concurrency` connections each send one request, read the whole answer, and send the next, until
`max_requests` were sent or `max_seconds` passed, whichever comes first. Requests are built as bytes
up front, so the client spends its CPU on the socket and not on an HTTP library; latency is the
time from writing a request to having read its whole body. An answer is parsed by its
Content-Length (the service never streams). uvloop is used when it is installed.

With `rate_per_s`, sends are paced: the n-th request is due at `first + n / rate_per_s` and not
sent before, so the load holds a chosen rate (an open loop, as long as `concurrency` connections
can carry it), and its latency counts from when it was due, so a request that waited for a free
connection is as late as it was for its user.

Run it in its own process (the benchmark does, through multiprocessing), never in the server's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

# (method, path, body) -> the bytes of one request
Request = tuple[str, str, bytes]


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0  # 2xx answers
    failed: int = 0  # other statuses and broken connections
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)  # of 2xx answers
    late_ms: list[float] = field(default_factory=list)  # paced: how long after it was due each was sent
    first: float = 0.0  # time.time() of the first send
    last: float = 0.0  # time.time() of the last answer
    bodies: list[bytes] = field(default_factory=list)  # kept only when asked

    @property
    def seconds(self) -> float:
        return max(self.last - self.first, 1e-9)

    def summary(self) -> dict[str, float | int]:
        ms = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {
            "requests": self.sent,
            "ok": self.ok,
            "failed": self.failed,
            "seconds": round(self.seconds, 3),
            "per_s": round(self.ok / self.seconds, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p90_ms": round(float(np.percentile(ms, 90)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "max_ms": round(float(ms.max()), 2),
            **({"p99_sent_late_ms": round(float(np.percentile(self.late_ms, 99)), 2)}
               if self.late_ms else {}),  # fmt: skip
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def encode(request: Request, host: str, headers: dict[str, str]) -> bytes:
    method, path, body = request
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
            break
    return status, await reader.readexactly(length) if length else b""


async def _load(
    host: str,
    port: int,
    requests: Sequence[bytes],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    keep_bodies: bool,
    rate_per_s: float | None,
) -> LoadResult:
    result = LoadResult()
    began = time.perf_counter()
    deadline = began + max_seconds
    counter = iter(range(max_requests))

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for n in counter:
                due = None if rate_per_s is None else began + n / rate_per_s
                if due is not None:
                    await asyncio.sleep(due - time.perf_counter())
                if time.perf_counter() >= deadline:
                    return
                result.sent += 1
                # Paced, a request is late from when it was due: a reply that held up the ones
                # behind it counts against them too (no coordinated omission).
                start = time.perf_counter() if due is None else due
                if due is not None:
                    result.late_ms.append((time.perf_counter() - due) * 1000.0)
                writer.write(requests[n % len(requests)])
                try:
                    status, body = await _read_answer(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    result.failed += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if 200 <= status < 300:
                    result.ok += 1
                    result.latencies_ms.append((time.perf_counter() - start) * 1000.0)
                    if keep_bodies:
                        result.bodies.append(body)
                else:
                    result.failed += 1
        finally:
            writer.close()

    result.first = time.time()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    result.last = time.time()
    return result


def run_load(
    host: str,
    port: int,
    requests: Sequence[Request],
    headers: dict[str, str],
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    keep_bodies: bool = False,
    rate_per_s: float | None = None,
) -> LoadResult:
    """Send `requests` round-robin on `concurrency` keep-alive connections, within both bounds
    (paced at `rate_per_s` when given)."""
    encoded = [encode(r, f"{host}:{port}", headers) for r in requests]
    return _runner()(
        _load(host, port, encoded, concurrency, max_requests, max_seconds, keep_bodies, rate_per_s)
    )


def _runner() -> Callable:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run
