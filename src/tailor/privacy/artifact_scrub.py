"""Erasing user ids from the artifact versions already on disk.

An artifact keeps its users' ids in `users.json` (user_idx -> id) and nothing else per user: the
models are item-side and score a user from the events read at request time. A version naming an
erased user is replaced by a scrubbed copy, written like any version (a hidden temporary folder
renamed into place, CURRENT switched atomically when it pointed at the old one), so a reader sees
the old version or the new one, never half of either. The copy hard-links every unchanged file;
`users.json` holds ERASED_ID in the erased ids' places, so every other user keeps their index.
The copy is named after its origin (`<version>-erased1`, `-erased2`, ...): versions keep their
order.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import Any

from tailor.artifacts import (
    MANIFEST_FILE,
    TEMP_PREFIX,
    USERS_FILE,
    current_version,
    list_versions,
    switch_current,
)
from tailor.types import ERASED_ID

_SCRUBBED = re.compile(r"^(?P<origin>.+)-erased(?P<n>\d+)$")


def scrub_artifacts(artifacts_dir: Path, user_ids: Collection[str]) -> list[str]:
    """Replace each version naming any of `user_ids` by a scrubbed copy; returns the copies."""
    root = Path(artifacts_dir)
    erased = set(user_ids)
    replaced = []
    for version in list_versions(root):
        ids = json.loads((root / version / USERS_FILE).read_bytes())
        if erased.intersection(ids):
            replaced.append(_replace_version(root, version, ids, erased))
    return replaced


def _replace_version(root: Path, version: str, ids: list[str], erased: set[str]) -> str:
    new_version = scrubbed_name(version)
    temp = root / f"{TEMP_PREFIX}{new_version}"
    try:
        shutil.copytree(root / version, temp, copy_function=os.link)
        manifest: dict[str, Any] = json.loads((temp / MANIFEST_FILE).read_bytes())
        scrubbed = [ERASED_ID if i in erased else i for i in ids]
        users = json.dumps(scrubbed, ensure_ascii=False).encode()
        _replace_file(temp / USERS_FILE, users)
        manifest["version"] = new_version
        manifest["files"][USERS_FILE] = len(users)
        if USERS_FILE in manifest.get("checksums", {}):
            manifest["checksums"][USERS_FILE] = hashlib.sha256(users).hexdigest()
        _replace_file(temp / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False).encode())
        os.rename(temp, root / new_version)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    if current_version(root) == version:
        switch_current(root, new_version)
    shutil.rmtree(root / version, ignore_errors=True)
    return new_version


def scrubbed_name(version: str) -> str:
    """`v` -> `v-erased1`, `v-erased1` -> `v-erased2`: the copy sorts right after its origin."""
    match = _SCRUBBED.match(version)
    if match is None:
        return f"{version}-erased1"
    return f"{match['origin']}-erased{int(match['n']) + 1}"


def _replace_file(path: Path, content: bytes) -> None:
    """Write `content` as a new file at `path`: the old one may be a hard link to the origin."""
    path.unlink()
    with open(path, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
