"""The narrow store interface: the source of truth for events, items and users.

Frames in and out use the canonical columns of `tailor.types` (EVENT_COLUMNS, ITEM_COLUMNS,
USER_COLUMNS). Timestamps (`ts`, `created_at`) are int64 milliseconds since the epoch, UTC.
`tags` are lists of strings and `attributes` dicts; the store serialises them as JSON.

Every write is one transaction: it lands whole or not at all, and it is durable when the call
returns. Rows are validated before they reach the store (see `tailor.ingest.validate`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import pandas as pd


@dataclass(frozen=True)
class StoredKey:
    """An API key as stored: its id, role and a salted hash, never the key itself."""

    key_id: str
    name: str
    role: str
    salt: str  # hex
    digest: str  # hex HMAC-SHA256 of the key under `salt`
    created_at: int  # ms since the epoch
    revoked_at: int | None = None


@dataclass(frozen=True)
class ServedList:
    """A list of items the service answered, under a request id feedback can name."""

    request_id: str
    scenario: str
    item_ids: list[str]
    ts: int  # ms since the epoch
    user_id: str | None = None
    experiment: str | None = None
    variant: str | None = None
    model_version: str | None = None


@dataclass(frozen=True)
class Feedback:
    """An impression, click or conversion attributed to a served list (`item_id` None: an
    impression of the whole list)."""

    request_id: str
    kind: str
    ts: int
    item_id: str | None = None
    value: float | None = None


@dataclass(frozen=True)
class LoggedRejection:
    row: int  # the record number in its batch or file, from 1 (or 0 when unnumbered)
    field: str | None
    message: str


@dataclass(frozen=True)
class WriteRecord:
    """What one write did, for the write log: `rejections` are the first few rejected rows."""

    ts: int  # ms since the epoch
    source: str  # "events", "items" or "users"
    origin: str  # "api" or a file name
    accepted: int
    rejected: int
    duplicates: int
    rejections: list[LoggedRejection] = field(default_factory=list)


@dataclass(frozen=True)
class FaqEntry:
    """One question and answer of the shop's FAQ (`lang`: zh or en; `topic` free text)."""

    faq_id: str
    question: str
    answer: str
    lang: str
    topic: str | None = None
    updated_at: int = 0  # ms since the epoch


@dataclass(frozen=True)
class AuditEntry:
    """One admin action, for the audit log (see `tailor.privacy.audit`)."""

    ts: int  # ms since the epoch
    actor: str  # the acting API key's id, or "cli"
    action: str  # e.g. "erase_user", "purge", "create_key", "revoke_key", "restore"
    target: str | None  # a hash of the user id acted on, a key id, a cutoff; never a raw user id
    outcome: str  # "ok", or the error that stopped it


class Store(ABC):
    url: str

    # ---- writes ------------------------------------------------------------------------------

    @abstractmethod
    def add_events(self, events: pd.DataFrame) -> int:
        """Insert events; an `event_id` already stored is skipped. Returns how many were new."""

    @abstractmethod
    def upsert_items(self, items: pd.DataFrame) -> int:
        """Insert or replace items by `item_id`. Returns the number of rows written."""

    @abstractmethod
    def upsert_users(self, users: pd.DataFrame) -> int:
        """Insert or replace users by `user_id`. Returns the number of rows written."""

    @abstractmethod
    def delete_items(self, item_ids: Sequence[str]) -> int:
        """Delete items (their events stay: they are history). Returns how many existed."""

    @abstractmethod
    def delete_users(self, user_ids: Sequence[str]) -> int:
        """Delete users and every event of theirs (and the lists served to them, with their
        feedback). Returns how many users or event owners existed."""

    # ---- reads -------------------------------------------------------------------------------

    @abstractmethod
    def events(
        self,
        *,
        since: int | None = None,
        until: int | None = None,
        user_ids: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Events with `since <= ts < until`, ordered by user then time (then insertion)."""

    @abstractmethod
    def recent_events(self, user_id: str, limit: int) -> pd.DataFrame:
        """A user's latest `limit` events, oldest first."""

    def recent_item_kinds(self, user_id: str, limit: int) -> list[tuple[str | None, str]]:
        """(item_id, kind) of a user's latest `limit` events, oldest first: what a recommendation
        request reads, without the cost of a frame."""
        found = self.recent_events(user_id, limit)
        item_ids = found["item_id"].astype(object).where(found["item_id"].notna(), None)
        return list(zip(item_ids.tolist(), found["kind"].tolist()))

    def recent_item_kinds_of(
        self, user_ids: Sequence[str], limit: int
    ) -> dict[str, list[tuple[str | None, str]]]:
        """`recent_item_kinds` of each of these users (a store may read them in one go)."""
        return {user_id: self.recent_item_kinds(user_id, limit) for user_id in user_ids}

    @abstractmethod
    def items(self, item_ids: Sequence[str] | None = None) -> pd.DataFrame:
        """Catalogue rows (all when `item_ids` is None), hidden ones included."""

    @abstractmethod
    def users(self, user_ids: Sequence[str] | None = None) -> pd.DataFrame: ...

    @abstractmethod
    def counts(self) -> dict[str, int]:
        """Row counts: {"events": n, "items": n, "users": n}."""

    # ---- API keys ----------------------------------------------------------------------------

    @abstractmethod
    def add_api_key(self, key: StoredKey) -> None:
        """Store a new key; InvalidInputError if its `key_id` is taken."""

    @abstractmethod
    def api_key(self, key_id: str) -> StoredKey | None: ...

    @abstractmethod
    def api_keys(self) -> list[StoredKey]:
        """Every key, revoked ones included, oldest first."""

    @abstractmethod
    def revoke_api_key(self, key_id: str, at: int) -> bool:
        """Mark an active key revoked at `at` (ms); False when there is no such active key."""

    # ---- served lists and their feedback (see `tailor.online`) -------------------------------

    @abstractmethod
    def add_served(self, lists: Sequence[ServedList]) -> None:
        """Remember answered lists; a `request_id` already stored is kept as it was."""

    @abstractmethod
    def served_lists(self, request_ids: Sequence[str]) -> dict[str, ServedList]:
        """The stored lists among `request_ids`, by request id."""

    @abstractmethod
    def add_feedback(self, rows: Sequence[Feedback]) -> int:
        """Store feedback rows (their request ids are checked by the caller). Returns how many."""

    @abstractmethod
    def online_log(
        self, *, since: int | None = None, until: int | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Lists served with `since <= ts < until` (request_id, scenario, experiment, variant,
        n_items, ts) and the feedback on them (request_id, kind, item_id)."""

    # ---- the write log (see `tailor.ingest.write_log`) ----------------------------------------

    @abstractmethod
    def add_write_record(self, record: WriteRecord) -> None:
        """Log one write's counts and its rejections (as given: the caller caps them)."""

    @abstractmethod
    def write_log(self, *, since: int | None = None) -> pd.DataFrame:
        """Logged writes with `ts >= since`, oldest first: ts, source, origin, accepted, rejected,
        duplicates."""

    @abstractmethod
    def recent_rejections(self, limit: int) -> pd.DataFrame:
        """The latest `limit` logged rejections, newest first: ts, source, origin, row, field,
        message."""

    # ---- the shop's FAQ (see `tailor.assistant`) ----------------------------------------------

    @abstractmethod
    def upsert_faq(self, entries: Sequence[FaqEntry]) -> int:
        """Insert or replace FAQ entries by `faq_id`. Returns the number of entries written."""

    @abstractmethod
    def faq(self) -> list[FaqEntry]:
        """Every FAQ entry, by `faq_id`."""

    # ---- privacy (see `tailor.privacy`) -------------------------------------------------------

    @abstractmethod
    def erase_user(self, user_id: str) -> dict[str, int]:
        """Delete, in one transaction, every row of `user_id`: rows of any table with a `user_id`
        column, the feedback on lists served to them, and the write-log and rejection rows whose
        text names them. Returns the rows deleted per table (tables with none left out)."""

    @abstractmethod
    def purge_before(self, ts: int) -> dict[str, int]:
        """Delete, in one transaction, events with `ts` before `ts` (ms) and what depends on them:
        lists served before then and their feedback, write-log and rejection rows logged before
        then, and users created before then who have no event left. Rows deleted per table."""

    @abstractmethod
    def rows_naming(self, needles: Sequence[str]) -> dict[str, int]:
        """Per table of the live database (found by introspection, not from the declared schema),
        how many rows hold any needle in any text or JSON column (0 for a table with none)."""

    @abstractmethod
    def add_audit_entry(self, entry: AuditEntry) -> None: ...

    @abstractmethod
    def audit_entries(self, *, since: int | None = None, limit: int = 100) -> list[AuditEntry]:
        """Logged admin actions with `ts >= since`, newest first, at most `limit`."""

    # ---- lifecycle ---------------------------------------------------------------------------

    @abstractmethod
    def check_integrity(self) -> list[str]:
        """Problems found by the backend's own integrity check; empty when healthy."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
