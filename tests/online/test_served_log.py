"""The served-list log: pending lists are found before they are stored, written in batches,
kept while the store fails, and capped."""

from __future__ import annotations

import time

import pytest

from tailor.errors import StoreError
from tailor.online.served import ServedLog
from tailor.store import open_store
from tailor.store.base import ServedList


def served(n: int) -> ServedList:
    return ServedList(f"r{n}", "home", ["a"], 1_000 + n)


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/t.db") as opened:
        yield opened


def test_lists_are_found_at_once_and_stored_by_the_background_thread(store):
    log = ServedLog(store, flush_seconds=0.05)
    log.record(served(1))
    assert set(log.find(["r1", "r2"])) == {"r1"}
    deadline = time.monotonic() + 10
    while not store.served_lists(["r1"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.served_lists(["r1"])["r1"] == served(1)
    log.close()
    with pytest.raises(StoreError):
        log.record(served(2))


def test_close_writes_what_is_pending(store):
    log = ServedLog(store, flush_seconds=60)
    for n in range(5):
        log.record(served(n))
    log.close()
    assert len(store.served_lists([f"r{n}" for n in range(5)])) == 5


class RefusingStore:
    def __init__(self, store):
        self.store, self.refuse = store, True

    def add_served(self, lists):
        if self.refuse:
            raise StoreError("disk full")
        self.store.add_served(lists)


def test_lists_wait_while_the_store_refuses_and_the_oldest_go_past_the_cap(store):
    flaky = RefusingStore(store)
    log = ServedLog(flaky, flush_seconds=60, max_pending=3)  # type: ignore[arg-type]
    for n in range(5):
        log.record(served(n))
    with pytest.raises(StoreError):
        log.flush()
    assert log.dropped == 2
    flaky.refuse = False
    assert log.flush() == 3
    assert set(store.served_lists([f"r{n}" for n in range(5)])) == {"r2", "r3", "r4"}
