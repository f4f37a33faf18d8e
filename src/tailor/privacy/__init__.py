"""Privacy (China's PIPL, the EU's GDPR): erasure, its proof, pseudonyms, retention, audit, backup.

erase_user(engine, user_id, actor=...)         rows, caches and artifacts, at once -> receipt
audit_erasure(store, artifacts_dir, user_id)  searches everything for the user -> ErasureCheck
Pseudonymizer                                  HMAC-SHA256 user ids under `privacy.key`
purge(store, older_than, actor=...)            retention: events older than an age, and theirs
record / audited                               the audit log of admin actions
backup / restore                               SQLite online backup (PostgreSQL: pg_dump)
"""

from tailor.privacy.audit import CLI_ACTOR, audited, record
from tailor.privacy.backup import backup, restore
from tailor.privacy.check import ErasureCheck, audit_erasure
from tailor.privacy.erasure import ErasureReceipt, UserCache, erase_user, user_caches
from tailor.privacy.pseudonyms import Pseudonymizer, audit_target, stored_user_id
from tailor.privacy.retention import PurgeResult, parse_age, purge

__all__ = [
    "CLI_ACTOR",
    "ErasureCheck",
    "ErasureReceipt",
    "Pseudonymizer",
    "PurgeResult",
    "UserCache",
    "audit_erasure",
    "audit_target",
    "audited",
    "backup",
    "erase_user",
    "parse_age",
    "purge",
    "record",
    "restore",
    "stored_user_id",
    "user_caches",
]
