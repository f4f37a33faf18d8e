"""Requests answered together: what arrives while a batch is being scored forms the next batch.

Scoring one user costs mostly fixed overheads (a Transformer forward pass, a faiss search, a
LightGBM call, numpy dispatch) that a batch of users shares. A `Coalescer` collects the requests
that arrive while it scores and answers them together next ("natural batching"): the batch grows
with the load, and a lone request on a quiet service waits at most `linger_seconds`.

Batches are scored on the event loop's own thread, one at a time. The work holds the GIL, so in
a worker thread it ran no sooner. The thread only added GIL handoffs between it and the loop:
with two server processes on two cores, 3.9 CPU-ms per recommendation in a thread against 3.1
on the loop. While a batch is scored, other requests to the process wait; that is at most one
batch, some 10-30 ms.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from threadpoolctl import threadpool_limits

Request = TypeVar("Request")
Answer = TypeVar("Answer")
Answerer = Callable[[Sequence[Request]], Sequence[Answer]]


def one_thread_per_pool() -> None:
    """One thread in every loaded BLAS and OpenMP pool (numpy, faiss, torch), for the calling
    thread (OpenMP keeps the setting per thread). Requests run side by side in threads, and
    workers in processes, so a pool per call only makes them wait on each other: a 1 x 64 by
    64 x 100k product took 4x longer with 2 OpenBLAS threads than with 1 on a busy 2-core
    machine, and faiss spun up OpenMP threads for a batch of a few users."""
    threadpool_limits(limits=1)


class Coalescer(Generic[Request, Answer]):
    """Answers requests in batches of at most `max_batch`, one batch at a time.

    Before each batch, when fewer than `linger_below` requests wait, it waits `linger_seconds`
    for more: a batch of one costs nearly as much as a batch of four. An answerer takes a list of
    requests and returns their answers in order; requests given different answerers (say, the
    bound methods of two engines) are never mixed in one call. If it raises, every request of
    that call gets the exception.
    """

    def __init__(
        self, max_batch: int = 64, linger_seconds: float = 0.003, linger_below: int = 4
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.max_batch = max_batch
        self.linger_seconds = linger_seconds
        self.linger_below = linger_below
        self._waiting: list[tuple[Answerer, Request, asyncio.Future[Answer]]] = []
        self._drainer: asyncio.Task[None] | None = None

    async def answer(self, answerer: Answerer, request: Request) -> Answer:
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((answerer, request, future))
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                few = len(self._waiting) < self.linger_below
                # Also a turn for the loop: requests already read join this batch.
                await asyncio.sleep(self.linger_seconds if few else 0)
                answerer, batch, rest = self._waiting[0][0], [], []
                for waiting in self._waiting:
                    same = waiting[0] == answerer and len(batch) < self.max_batch
                    (batch if same else rest).append(waiting)
                self._waiting = rest
                self._run(answerer, [(request, future) for _, request, future in batch])
        finally:
            self._drainer = None

    @staticmethod
    def _run(answerer: Answerer, batch: list[tuple[Request, asyncio.Future]]) -> None:
        live = [(request, future) for request, future in batch if not future.done()]
        if not live:
            return  # every client gave up waiting
        try:
            answers = answerer([request for request, _ in live])
            answered = list(zip(live, answers, strict=True))
        except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
            for _, future in live:
                future.set_exception(exc)
            return
        for (_, future), answer in answered:
            future.set_result(answer)
