"""Requests answered together: what arrives while a batch is being scored forms the next batch.

Scoring one user costs mostly fixed overheads (a Transformer forward pass, a faiss search, a
LightGBM call, numpy dispatch) that a batch of users shares, and it holds the GIL, so threads
scoring side by side only take turns. A `Coalescer` therefore runs one batch at a time in a
worker thread. A request that finds it idle starts a batch of its own at once, so a quiet
service adds no wait; under load, the requests that queued during a batch go together in the
next one ("natural batching"), and the batch grows with the load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from anyio import to_thread

Request = TypeVar("Request")
Answer = TypeVar("Answer")
Answerer = Callable[[Sequence[Request]], Sequence[Answer]]


class Coalescer(Generic[Request, Answer]):
    """Answers requests in batches of at most `max_batch`, one batch at a time.

    `answer` (called in a worker thread) takes a list of requests and returns their answers in
    order; requests given different answerers (say, the bound methods of two engines) are never
    mixed in one call. If it raises, every request of that call gets the exception.
    """

    def __init__(self, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self.max_batch = max_batch
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

    @staticmethod
    async def _run(answerer: Answerer, batch: list[tuple[Request, asyncio.Future]]) -> None:
        live = [(request, future) for request, future in batch if not future.done()]
        if not live:
            return  # every client gave up waiting
        try:
            answers = await to_thread.run_sync(answerer, [request for request, _ in live])
            answered = list(zip(live, answers, strict=True))
        except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in answered:
            if not future.done():
                future.set_result(answer)
