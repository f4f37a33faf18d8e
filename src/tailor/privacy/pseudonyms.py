"""Keyed hashes of user ids: the pseudonyms stored in place of ids, and the audit log's targets.

With `privacy.pseudonymize`, a user id is stored as HMAC-SHA256(key, id) in hex. The shop, which
holds the key, maps a pseudonym back by computing the same HMAC over its own ids:

    hmac.new(key.encode(), user_id.encode(), hashlib.sha256).hexdigest()

Nobody without the key can read an id back, nor test a guessed one.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from tailor.settings import PrivacySettings

AUDIT_TARGET_HEX = 32
_AUDIT_LABEL = b"tailor audit target\x1f"


@dataclass(frozen=True)
class Pseudonymizer:
    key: bytes

    @classmethod
    def of(cls, settings: PrivacySettings) -> Pseudonymizer | None:
        """The pseudonymizer the settings ask for, or None when ids are stored as given."""
        if not settings.pseudonymize:
            return None
        return cls(settings.key.get_secret_value().encode())

    def pseudonym(self, user_id: str) -> str:
        return hmac.new(self.key, user_id.encode(), hashlib.sha256).hexdigest()


def stored_user_id(user_id: str, pseudonyms: Pseudonymizer | None) -> str:
    """The id the store keeps for `user_id`."""
    return pseudonyms.pseudonym(user_id) if pseudonyms else user_id


def audit_target(user_id: str, settings: PrivacySettings) -> str:
    """How the audit log names a user: a hash that outlives the user's erasure without naming
    them (keyed when a privacy key is set; a plain SHA-256 can be matched against guessed ids)."""
    key = settings.key.get_secret_value().encode()
    message = _AUDIT_LABEL + user_id.encode()
    digest = hmac.new(key, message, hashlib.sha256) if key else hashlib.sha256(message)
    return digest.hexdigest()[:AUDIT_TARGET_HEX]
