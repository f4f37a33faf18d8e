"""The console's sign-in session: a signed, HttpOnly cookie naming the admin key that signed in.

The cookie holds `<key id>.<expiry, unix seconds>.<signature>`, never the key. The signature is an
HMAC of the id and expiry under the key's stored digest, a secret only the store knows (it is the
HMAC of the key under a random salt, see `tailor.service.auth`). So no separate session secret
needs configuring, sessions survive restarts and work across replicas sharing the store, and
revoking the key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from tailor.settings import Role
from tailor.store import Store, StoredKey

SESSION_COOKIE = "tailor_console"
SESSION_SECONDS = 12 * 3600


def session_token(key: StoredKey, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + SESSION_SECONDS)
    body = f"{key.key_id}.{expires}"
    return f"{body}.{_signature(key, body)}"


def session_key(store: Store, token: str | None, now: float | None = None) -> StoredKey | None:
    """The active admin key a session token was signed for, or None (missing, forged, expired,
    revoked or not admin)."""
    key_id, _, rest = (token or "").partition(".")
    expires, _, signature = rest.partition(".")
    if not key_id or not expires.isdigit() or not signature:
        return None
    if int(expires) <= (now if now is not None else time.time()):
        return None
    key = store.api_key(key_id)
    if key is None or key.revoked_at is not None or key.role != Role.admin.value:
        return None
    if not hmac.compare_digest(_signature(key, f"{key_id}.{expires}"), signature):
        return None
    return key


def _signature(key: StoredKey, body: str) -> str:
    return hmac.new(bytes.fromhex(key.digest), body.encode(), hashlib.sha256).hexdigest()
