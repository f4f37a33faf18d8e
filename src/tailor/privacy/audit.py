"""The audit log of admin actions: erasures, purges, key management, restores.

Each entry names who acted (the API key's id, or "cli"), the action, its target (a user is named
only by `audit_target`, never by id) and the outcome: "ok", or the error that stopped it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tailor.errors import StoreError, TailorError
from tailor.store.base import AuditEntry, Store

log = logging.getLogger(__name__)
CLI_ACTOR = "cli"
OK = "ok"
MAX_OUTCOME_CHARS = 300
ERASE_ACTION = "erase_user"


def record(store: Store, actor: str, action: str, target: str | None, outcome: str = OK) -> None:
    store.add_audit_entry(
        AuditEntry(
            ts=time.time_ns() // 1_000_000,
            actor=actor,
            action=action,
            target=target,
            outcome=outcome,
        )
    )


@contextmanager
def audited(store: Store, actor: str, action: str, target: str | None) -> Iterator[None]:
    """Log `action` once the block ends: "ok", or "failed: <error>" (the error still raises)."""
    try:
        yield
    except Exception as exc:
        message = exc.message if isinstance(exc, TailorError) else type(exc).__name__
        try:
            record(store, actor, action, target, f"failed: {message}"[:MAX_OUTCOME_CHARS])
        except StoreError as unlogged:  # the store that failed the action may refuse this too
            log.error("could not log the failed %s in the audit log: %s", action, unlogged)
        raise
    record(store, actor, action, target)


def erased_since(store: Store, ts: int) -> bool:
    """Whether a user erasure (by any process sharing the store) finished at or after `ts` (ms).

    The log holds only a hash of the user, so a cache that read users before `ts` cannot tell
    which: it reads again."""
    entries = store.audit_entries(since=ts, limit=10_000)
    return any(e.action == ERASE_ACTION and e.outcome == OK for e in entries)
