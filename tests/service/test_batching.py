"""The coalescer answers concurrent requests in batches, in order, and isolates answerers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from tailor.service.batching import Coalescer


class Recorder:
    """An answerer that doubles numbers and records the batches it was given."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __call__(self, requests: Sequence[int]) -> list[int]:
        self.batches.append(list(requests))
        return [2 * r for r in requests]


def test_a_lone_request_is_answered_in_a_batch_of_its_own() -> None:
    async def scenario() -> None:
        answerer = Recorder()
        coalescer: Coalescer[int, int] = Coalescer()
        assert await coalescer.answer(answerer, 21) == 42
        assert answerer.batches == [[21]]

    asyncio.run(scenario())


def test_waiting_requests_go_together_up_to_the_batch_size() -> None:
    async def scenario() -> None:
        answerer = Recorder()
        coalescer: Coalescer[int, int] = Coalescer(max_batch=4)
        answers = await asyncio.gather(*(coalescer.answer(answerer, n) for n in range(6)))
        assert answers == [0, 2, 4, 6, 8, 10]
        assert answerer.batches == [[0, 1, 2, 3], [4, 5]]

    asyncio.run(scenario())


def test_a_small_batch_lingers_for_requests_arriving_just_after() -> None:
    async def scenario() -> None:
        answerer = Recorder()
        coalescer: Coalescer[int, int] = Coalescer(linger_seconds=0.2, linger_below=4)
        first = asyncio.create_task(coalescer.answer(answerer, 1))
        await asyncio.sleep(0.02)
        assert await asyncio.gather(first, coalescer.answer(answerer, 2)) == [2, 4]
        assert answerer.batches == [[1, 2]]

    asyncio.run(scenario())


def test_requests_of_different_answerers_are_never_mixed() -> None:
    async def scenario() -> None:
        one, other = Recorder(), Recorder()
        coalescer: Coalescer[int, int] = Coalescer()
        calls = [coalescer.answer(a, n) for n, a in enumerate([one, other, one, other])]
        assert await asyncio.gather(*calls) == [0, 2, 4, 6]
        assert one.batches == [[0, 2]] and other.batches == [[1, 3]]

    asyncio.run(scenario())


def test_a_failing_batch_fails_its_own_requests_only() -> None:
    def failing(requests: Sequence[int]) -> list[int]:
        raise ValueError("no answer")

    async def scenario() -> None:
        coalescer: Coalescer[int, int] = Coalescer()
        with pytest.raises(ValueError, match="no answer"):
            await coalescer.answer(failing, 1)
        assert await coalescer.answer(Recorder(), 2) == 4  # the coalescer still works

    asyncio.run(scenario())


def test_an_answerer_returning_the_wrong_number_of_answers_fails_the_batch() -> None:
    async def scenario() -> None:
        coalescer: Coalescer[int, int] = Coalescer()
        with pytest.raises(ValueError):
            await coalescer.answer(lambda requests: [], 1)

    asyncio.run(scenario())


def test_a_request_given_up_on_is_not_scored() -> None:
    async def scenario() -> None:
        answerer = Recorder()
        coalescer: Coalescer[int, int] = Coalescer(linger_seconds=0.2)
        abandoned = asyncio.create_task(coalescer.answer(answerer, 1))
        kept = asyncio.create_task(coalescer.answer(answerer, 2))
        await asyncio.sleep(0.02)  # both wait while the small batch lingers
        abandoned.cancel()
        assert await kept == 4
        assert answerer.batches == [[2]]

    asyncio.run(scenario())


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        Coalescer(max_batch=0)
