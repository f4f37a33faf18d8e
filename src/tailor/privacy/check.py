"""The proof of an erasure: search every table, artifact file and cache for the user.

`audit_erasure` looks for every form the user's id takes in Tailor: the id as sent (UTF-8, and
as JSON escapes it), its pseudonym when ids are pseudonymised, and, in files, the audit log's hash
of it (which the audit log itself keeps on purpose). Tables are found by introspecting the live
database and every text or JSON column is searched; files are searched byte by byte. An id that
is part of other ids (`u1` in `u10`) is found inside them too: check with a distinctive one.
Request logs name a user by an HMAC under a secret that lives and dies with the process, so no
stored form of it exists to search for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tailor.privacy.erasure import UserCache
from tailor.privacy.pseudonyms import Pseudonymizer, audit_target, stored_user_id
from tailor.settings import PrivacySettings
from tailor.store.base import Store

READ_CHUNK = 1 << 20


@dataclass(frozen=True)
class ErasureCheck:
    """Where traces of a user were found (empty everywhere: the check passed), and how much was
    searched."""

    tables_with_traces: dict[str, int]  # table -> rows naming the user
    files_with_traces: list[str]  # paths relative to the artifacts folder
    caches_with_traces: list[str]
    tables_searched: int
    files_searched: int
    caches_searched: int

    @property
    def passed(self) -> bool:
        return not (self.tables_with_traces or self.files_with_traces or self.caches_with_traces)


def id_forms(user_id: str, privacy: PrivacySettings) -> list[str]:
    """The forms a user id can take in rows: as sent, JSON-escaped both ways, pseudonymised."""
    forms = [user_id, json.dumps(user_id)[1:-1], json.dumps(user_id, ensure_ascii=False)[1:-1]]
    forms.append(stored_user_id(user_id, Pseudonymizer.of(privacy)))
    return list(dict.fromkeys(forms))


def audit_erasure(
    store: Store,
    artifacts_dir: Path,
    user_id: str,
    *,
    privacy: PrivacySettings | None = None,
    caches: Mapping[str, UserCache] | None = None,
) -> ErasureCheck:
    """Search every table, every file under `artifacts_dir` and every given cache for `user_id`."""
    privacy = privacy or PrivacySettings()
    forms = id_forms(user_id, privacy)
    rows = store.rows_naming(forms)
    stored = stored_user_id(user_id, Pseudonymizer.of(privacy))
    needles = [form.encode() for form in [*forms, audit_target(stored, privacy)]]
    root = Path(artifacts_dir)
    files = sorted(p for p in root.rglob("*") if p.is_file())
    caches = caches or {}
    return ErasureCheck(
        tables_with_traces={table: n for table, n in rows.items() if n},
        files_with_traces=[p.relative_to(root).as_posix() for p in files if file_holds(p, needles)],
        caches_with_traces=[name for name, cache in caches.items() if cache.holds_user(stored)],
        tables_searched=len(rows),
        files_searched=len(files),
        caches_searched=len(caches),
    )


def file_holds(path: Path, needles: list[bytes]) -> bool:
    """Whether any needle occurs in the file, read in chunks that overlap by the longest needle."""
    overlap = max(map(len, needles)) - 1
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            window = tail + chunk
            if any(needle in window for needle in needles):
                return True
            tail = window[-overlap:] if overlap else b""
    return False
