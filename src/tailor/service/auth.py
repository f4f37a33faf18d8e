"""API keys: who may call which route.

A key looks like `tlr_<12 hex id>_<43 random characters>` and is shown once, when created. The
store keeps its id, role and an HMAC-SHA256 of the whole key under a random per-key salt. A key
carries 256 random bits, so a fast hash is enough: slow hashes (scrypt) protect guessable
passwords, and nobody can guess these. A verified key is remembered, under the SHA-256 of the
key, for `service.key_cache_seconds`, so a request with a known key costs one hash and no query;
a revoked key is refused once its cache entry expires. Each key's rate limit is a token bucket in
the shared cache (`tailor.cache`), so with Redis it holds across replicas.

Roles: `ingest` writes events, items and users; `read` gets recommendations, similar and popular
items; `metrics` reads /metrics; `admin` may do everything, and only admin may delete.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tailor.cache.base import SharedCache, whole_seconds
from tailor.errors import NotFoundError, TailorError
from tailor.service.errors import error_response
from tailor.settings import Role, ServiceSettings
from tailor.store import Store, StoredKey

KEY_PREFIX = "tlr_"
KEY_ID_HEX = 12
CACHED_KEYS = 4096


class AccessError(TailorError):
    """A request refused before it reached its route; `headers` go with the answer."""

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class MissingKeyError(AccessError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, {"WWW-Authenticate": "Bearer"})


class ForbiddenError(AccessError):
    status_code = 403


class RateLimitedError(AccessError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"Retry-After": str(retry_after)})


def create_key(store: Store, role: Role, name: str = "") -> tuple[str, StoredKey]:
    """A new key for `role`, stored hashed: returns (the key, shown only now; its stored row)."""
    key_id = secrets.token_hex(KEY_ID_HEX // 2)
    raw = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    salt = secrets.token_bytes(16)
    stored = StoredKey(
        key_id=key_id,
        name=name,
        role=Role(role).value,
        salt=salt.hex(),
        digest=_digest(salt, raw),
        created_at=time.time_ns() // 1_000_000,
    )
    store.add_api_key(stored)
    return raw, stored


def revoke_key(store: Store, key_id: str) -> StoredKey:
    """Revoke a key by id; NotFoundError when there is no such key, the row as it stands otherwise."""
    store.revoke_api_key(key_id, time.time_ns() // 1_000_000)
    stored = store.api_key(key_id)
    if stored is None:
        raise NotFoundError(f"no API key with id {key_id!r} (`tailor keys list` shows them)")
    return stored


def _digest(salt: bytes, raw: str) -> str:
    return hmac.new(salt, raw.encode(), hashlib.sha256).hexdigest()


def key_id_of(raw: str) -> str | None:
    """The id part of a presented key, or None when it is not shaped like a Tailor key."""
    if not raw.startswith(KEY_PREFIX) or raw[len(KEY_PREFIX) + KEY_ID_HEX :][:1] != "_":
        return None
    return raw[len(KEY_PREFIX) : len(KEY_PREFIX) + KEY_ID_HEX]


class KeyRing:
    """Verifies presented keys against the store; verified ones are remembered for a while."""

    def __init__(self, cache_seconds: float, capacity: int = CACHED_KEYS) -> None:
        self.cache_seconds = cache_seconds
        self.capacity = capacity
        self._cache: OrderedDict[bytes, tuple[StoredKey, float]] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, raw: str) -> StoredKey | None:
        fingerprint = hashlib.sha256(raw.encode()).digest()
        with self._lock:
            hit = self._cache.get(fingerprint)
            if hit is None or hit[1] <= time.monotonic():
                return None
            self._cache.move_to_end(fingerprint)
            return hit[0]

    def verify(self, store: Store, raw: str) -> StoredKey | None:
        """The active key `raw` is, or None; asks the store (call it off the event loop)."""
        key_id = key_id_of(raw)
        stored = store.api_key(key_id) if key_id else None
        if stored is None or stored.revoked_at is not None:
            return None
        if not hmac.compare_digest(_digest(bytes.fromhex(stored.salt), raw), stored.digest):
            return None
        with self._lock:
            fingerprint = hashlib.sha256(raw.encode()).digest()
            self._cache[fingerprint] = (stored, time.monotonic() + self.cache_seconds)
            self._cache.move_to_end(fingerprint)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return stored


class Gate:
    """Authentication, role check and rate limit for one app (kept in `app.state.gate`)."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.enabled = settings.auth
        self.keys = KeyRing(settings.key_cache_seconds)
        self.limits = settings.rate_limits

    async def admit(self, request: Request, role: Role, raw: str | None) -> None:
        if not self.enabled:
            return
        if not raw:
            raise MissingKeyError(
                "this route needs an API key: send `Authorization: Bearer <key>` or "
                "`X-API-Key: <key>` (create one with `tailor keys create --role "
                f"{role.value}`)"
            )
        key = self.keys.cached(raw) or await run_in_threadpool(
            self.keys.verify, request.app.state.engine.store, raw
        )
        if key is None:
            raise MissingKeyError(
                "the API key is unknown or revoked: check it, or create a new one with "
                f"`tailor keys create --role {role.value}`"
            )
        request.state.key_id = key.key_id
        if key.role not in (role.value, Role.admin.value):
            raise ForbiddenError(
                f"key {key.key_id} has role {key.role!r}; {request.method} "
                f"{request.scope['route'].path} needs role {role.value!r} (or admin)"
            )
        wait = await self._take_token(request.app.state.engine.cache, key)
        if wait is not None:
            seconds = whole_seconds(wait)
            raise RateLimitedError(
                f"key {key.key_id} is over its rate limit for role {key.role!r}; "
                f"retry in {seconds} s (service.rate_limits sets the limit)",
                retry_after=seconds,
            )

    async def _take_token(self, cache: SharedCache, key: StoredKey) -> float | None:
        """A token from the key's bucket, shared by every replica when the cache is."""
        limit = self.limits[Role(key.role)]
        if cache.remote:
            return await run_in_threadpool(cache.take_token, key.key_id, limit)
        return cache.take_token(key.key_id, limit)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="or `X-API-Key: <key>`")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
HeaderDep = Annotated[str | None, Depends(_header)]


def requires(role: Role) -> DependsParam:
    """The dependency that lets a request through only with a key of `role` (or admin)."""

    async def check(request: Request, bearer: BearerDep, header: HeaderDep) -> None:
        raw = bearer.credentials if bearer is not None else header
        await request.app.state.gate.admit(request, role, raw)

    check.__name__ = f"requires_{role.value}"
    return Depends(check)


async def access_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AccessError)
    response = error_response(exc.status_code, type(exc).__name__, exc.message)
    response.headers.update(exc.headers)
    return response
