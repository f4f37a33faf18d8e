"""Erasing a user at once (GDPR art. 17, PIPL art. 47): rows, caches and artifacts.

`erase_user` deletes the user's rows in one store transaction (`Store.erase_user`), drops them
from every in-memory cache that holds users (before and after the rows go, so a request racing
the erasure cannot put them back), stops the served model from knowing their id, and replaces the
artifact versions on disk that name them by scrubbed copies (`tailor.privacy.artifact_scrub`).
The next training reads the store, so it never sees them. The audit log records the erasure
under a hash of the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from tailor.privacy.artifact_scrub import scrub_artifacts
from tailor.privacy.audit import ERASE_ACTION, audited
from tailor.privacy.pseudonyms import Pseudonymizer, audit_target, stored_user_id

if TYPE_CHECKING:
    from tailor.engine import Engine



class UserCache(Protocol):
    """Anything that keeps users in memory and can let one go."""

    def forget_user(self, user_id: str) -> int:
        """Drop what is held for the user; returns how many entries went."""

    def holds_user(self, user_id: str) -> bool: ...


@dataclass(frozen=True)
class ServedModelUsers:
    """The served artifact's user id map, seen as a cache of user ids."""

    engine: Engine

    def forget_user(self, user_id: str) -> int:
        if self.engine.version is None:
            return 0
        return self.engine.serving.artifact.user_ids.forget([user_id])

    def holds_user(self, user_id: str) -> bool:
        return self.engine.version is not None and user_id in self.engine.serving.artifact.user_ids


def user_caches(
    engine: Engine, extra: Mapping[str, UserCache] | None = None
) -> dict[str, UserCache]:
    """Every in-memory cache of the engine that holds users, plus `extra` (the service's own)."""
    caches: dict[str, UserCache] = {
        "profiles": engine.profiles,
        "served_lists": engine.scenarios.log,
        "model_user_ids": ServedModelUsers(engine),
        "campaign_snapshot": engine.campaigns,
    }
    return {**caches, **(extra or {})}


@dataclass(frozen=True)
class ErasureReceipt:
    """What an erasure did: rows deleted per table, entries dropped per cache, the artifact
    versions that replaced those naming the user. `user` is the audit log's hash of the id."""

    user: str
    erased_at: str  # ISO 8601, UTC
    tables: dict[str, int]
    caches: dict[str, int]
    artifact_versions: list[str]

    @property
    def found(self) -> bool:
        return bool(self.tables or any(self.caches.values()) or self.artifact_versions)


def erase_user(
    engine: Engine,
    user_id: str,
    *,
    actor: str,
    caches: Mapping[str, UserCache] | None = None,
    pseudonymized: bool = False,
) -> ErasureReceipt:
    """Erase `user_id` everywhere: the id as the shop knows it (pseudonymised here when ids are),
    or, with `pseudonymized`, as stored (the HTTP boundary pseudonymised it already)."""
    privacy = engine.settings.privacy
    stored = user_id if pseudonymized else stored_user_id(user_id, Pseudonymizer.of(privacy))
    held = user_caches(engine, caches)
    target = audit_target(stored, privacy)
    with audited(engine.store, actor, ERASE_ACTION, target):
        dropped = _forget(held, stored)
        tables = engine.store.erase_user(stored)
        if stored != user_id:  # a rejected row's message may still quote the id as sent
            tables = _add(tables, engine.store.erase_user(user_id))
        dropped = _add(dropped, _forget(held, stored))
        versions = scrub_artifacts(engine.settings.artifacts_dir, {stored})
    return ErasureReceipt(
        user=target,
        erased_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tables=tables,
        caches=dropped,
        artifact_versions=versions,
    )


def _forget(caches: Mapping[str, UserCache], user_id: str) -> dict[str, int]:
    return {name: cache.forget_user(user_id) for name, cache in caches.items()}


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return {name: a.get(name, 0) + b.get(name, 0) for name in {**a, **b}}
