"""The served-list log: every answered list is remembered under its request id.

A list is stored by a background thread in batches, at most `flush_seconds` after it was
answered, so a request pays for no write of its own (a SQLite commit syncs to disk). Until then
it waits in memory, where feedback lookups find it too. `close()` writes what is pending; a crash
loses at most the lists of the last `flush_seconds`. While the store refuses writes, lists wait
(retried every round) up to `max_pending`; past that the oldest are dropped and counted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from tailor.errors import StoreError
from tailor.store.base import ServedList, Store

log = logging.getLogger(__name__)
MAX_PENDING = 100_000  # lists held while the store cannot take them; beyond, the oldest go


class ServedLog:
    def __init__(self, store: Store, flush_seconds: float, max_pending: int = MAX_PENDING) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.max_pending = max_pending
        self.dropped = 0  # lists never stored because too many were waiting
        self._pending: dict[str, ServedList] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def record(self, served: ServedList) -> None:
        with self._lock:
            if self._closed:
                raise StoreError("the served-list log is closed")
            if len(self._pending) >= self.max_pending:
                del self._pending[next(iter(self._pending))]
                self.dropped += 1
            self._pending[served.request_id] = served
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="tailor-served-log", daemon=True
                )
                self._thread.start()

    def forget_user(self, user_id: str) -> int:
        """Drop the user's lists not yet stored (see `tailor.privacy`); returns how many."""
        with self._lock:
            theirs = [r for r, served in self._pending.items() if served.user_id == user_id]
            for request_id in theirs:
                del self._pending[request_id]
        return len(theirs)

    def holds_user(self, user_id: str) -> bool:
        with self._lock:
            return any(served.user_id == user_id for served in self._pending.values())

    def find(self, request_ids: Sequence[str]) -> dict[str, ServedList]:
        """The lists answered under these request ids, pending or stored."""
        with self._lock:
            found = {r: self._pending[r] for r in request_ids if r in self._pending}
        rest = [r for r in request_ids if r not in found]
        if rest:
            found.update(self.store.served_lists(rest))
        return found

    def flush(self) -> int:
        """Write the pending lists now; returns how many were written."""
        with self._flushing:
            with self._lock:
                batch = list(self._pending.values())
            if not batch:
                return 0
            self.store.add_served(batch)
            with self._lock:
                for served in batch:
                    if self._pending.get(served.request_id) is served:
                        del self._pending[served.request_id]
            return len(batch)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            try:
                self.flush()
            except StoreError as exc:  # kept pending: the next round tries again
                log.error("could not store served lists: %s", exc.message)
