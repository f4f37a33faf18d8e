"""The shared cache's interface: rate-limit token buckets and the feed of catalogue changes.

Replicas of `tailor serve` share one store, where events, items and users live, so a request
that reads the store sees every replica's writes. What a replica keeps in memory instead (its
rate-limit buckets, the item facts of the version it serves) goes through this cache.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from tailor.settings import RateLimit

READ_CHANGES = 1_000  # most changes one look returns; behind by more, a replica re-reads the catalogue
IDS_PER_CHANGE = 10_000  # a bigger write is announced as "all": replicas re-read the catalogue
CHANGES_TTL_SECONDS = 7 * 86_400  # the feed expires after a week without a catalogue write

ChangeKind = Literal["upsert", "delete", "all"]


@dataclass(frozen=True)
class ItemChange:
    """Items written (`upsert`), deleted, or too many to name (`all`) by replica `origin`."""

    origin: str
    kind: ChangeKind
    item_ids: tuple[str, ...] = ()

    @classmethod
    def of(cls, origin: str, kind: ChangeKind, item_ids: Sequence[str]) -> ItemChange:
        if len(item_ids) > IDS_PER_CHANGE:
            return cls(origin, "all")
        return cls(origin, kind, tuple(str(i) for i in item_ids))


@dataclass(frozen=True)
class ItemChanges:
    """The changes after a cursor. `complete` is False when some of them are gone (trimmed,
    expired, or more than one look returns): the reader then re-reads the whole catalogue.
    `cursor` is what to pass next time."""

    cursor: int
    changes: list[ItemChange]
    complete: bool


def changes_after(after: int, latest: int, found: Sequence[tuple[int, ItemChange]]) -> ItemChanges:
    """What a reader at `after` gets, from the feed's latest number and the numbered changes
    found after `after` (ascending, at most READ_CHANGES)."""
    if latest < after:  # the feed expired and started again
        return ItemChanges(latest, [], complete=False)
    if latest == after:
        return ItemChanges(after, [], complete=True)
    complete = bool(found) and found[0][0] == after + 1 and found[-1][0] == latest
    return ItemChanges(latest, [change for _, change in found], complete)


def retry_seconds(tokens: float, limit: RateLimit) -> float:
    """Seconds until a bucket holding `tokens` has one again."""
    return max(0.0, (1.0 - tokens) / limit.per_second)


def whole_seconds(seconds: float) -> int:
    """A wait as the whole seconds of a Retry-After header (at least 1)."""
    return max(1, math.ceil(seconds))


class SharedCache(ABC):
    """State the replicas of one shop share. Bounded: buckets expire once full again, and the
    feed keeps the latest `cache.item_changes` changes."""

    remote: ClassVar[bool]  # calls go over the network: callers keep them off the event loop

    @abstractmethod
    def take_token(self, bucket: str, limit: RateLimit) -> float | None:
        """Take one token from `bucket` (refilled at `limit`): None when there was one, else the
        seconds until there is."""

    @abstractmethod
    def publish_items(self, change: ItemChange) -> int:
        """Append a catalogue change to the feed; returns its number."""

    @abstractmethod
    def latest_change(self) -> int:
        """The number of the newest change (0 before the first)."""

    @abstractmethod
    def _numbered_after(self, after: int) -> tuple[int, list[tuple[int, ItemChange]]]:
        """(latest number, up to READ_CHANGES numbered changes after `after`), read at once."""

    def item_changes(self, after: int) -> ItemChanges:
        """The catalogue changes published after number `after`."""
        return changes_after(after, *self._numbered_after(after))

    def ping(self) -> None:
        """Raise CacheError when the cache cannot be reached."""

    def close(self) -> None:
        """Let go of connections."""
