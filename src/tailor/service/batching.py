"""Requests answered together: what arrives while a batch is being scored forms the next batch.

Scoring one user costs mostly fixed overheads (a Transformer forward pass, a faiss search, a
LightGBM call, numpy dispatch) that a batch of users shares, and it holds the GIL, so threads
scoring side by side only take turns. A `Coalescer` therefore runs one batch at a time, always
in the same thread of its own (set up once by `initializer`: say, one thread per BLAS and
OpenMP pool, which OpenMP keeps per calling thread). A request that finds it idle starts a batch of its own at once, so a quiet
service adds no wait; under load, the requests that queued during a batch go together in the
next one ("natural batching"), and the batch grows with the load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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

    An answerer (called in the coalescer's thread) takes a list of requests and returns their
    answers in order; requests given different answerers (say, the bound methods of two
    engines) are never mixed in one call. If it raises, every request of that call gets the
    exception.
    """

    def __init__(
        self, max_batch: int = 64, initializer: Callable[[], object] | None = None
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.max_batch = max_batch
        self._thread = ThreadPoolExecutor(1, "tailor-batch", initializer=initializer)
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
                answerer, batch, rest = self._waiting[0][0], [], []
                for waiting in self._waiting:
                    same = waiting[0] == answerer and len(batch) < self.max_batch
                    (batch if same else rest).append(waiting)
                self._waiting = rest
                await self._run(answerer, [(request, future) for _, request, future in batch])
        finally:
            self._drainer = None

    async def _run(self, answerer: Answerer, batch: list[tuple[Request, asyncio.Future]]) -> None:
        live = [(request, future) for request, future in batch if not future.done()]
        if not live:
            return  # every client gave up waiting
        try:
            requests = [request for request, _ in live]
            answers = await asyncio.get_running_loop().run_in_executor(
                self._thread, answerer, requests
            )
            answered = list(zip(live, answers, strict=True))
        except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in answered:
            if not future.done():
                future.set_result(answer)
