"""Versioned artifacts: everything the service needs to answer, written once and never changed.

An artifact is a directory `<artifacts_dir>/<version>/`:

    manifest.json        version, data fingerprint, counts, metrics, settings, and the size of every file
    users.json           user_idx -> user_id (a JSON list)
    items.json           item_idx -> item_id
    catalogue.parquet    per item_idx: title, category, price, stock, hidden, popularity
    models/<name>/       one fitted Recommender each (`Recommender.save`)
    ranker/              the two-stage pipeline's ranker, when trained (`TwoStage.save`)

It is written to a hidden temporary directory; every file is fsynced, then the manifest, written
last, lists each file's size and SHA-256. The directory is renamed into place and the `CURRENT`
file switched with `os.replace`, so a reader sees the old version or the new one, never half of
either, and a training job killed midway leaves only a temporary directory that no reader looks at.
Loading checks every size and checksum: a torn, truncated or edited artifact is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from tailor.data.dataset import Dataset
from tailor.errors import ArtifactError, TailorError
from tailor.models import Recommender, model_class
from tailor.rank.ranker import TwoStage
from tailor.types import IdMap

FORMAT = 1
MANIFEST_FILE = "manifest.json"
CURRENT_FILE = "CURRENT"
USERS_FILE = "users.json"
ITEMS_FILE = "items.json"
CATALOGUE_FILE = "catalogue.parquet"
MODELS_DIR = "models"
RANKER_DIR = "ranker"
TEMP_PREFIX = ".tmp-"
DEFAULT_KEEP = 3
STALE_TEMP_SECONDS = 3600  # an unfinished write this old belongs to a crashed process

log = logging.getLogger(__name__)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int = FORMAT
    version: str
    created_at: str
    data_fingerprint: str
    n_users: int
    n_items: int
    n_events: int
    models: list[str]
    blend: dict[str, float]
    metrics: dict[str, dict[str, float]]
    evaluation: dict[str, Any]
    train_seconds: dict[str, float]
    skipped: dict[str, str] = {}  # configured models that could not be fitted, and why
    ranker: dict[str, Any] | None = None  # the ranker's sources, features and training summary
    # per model: {"history" | "popularity": {bucket: {"ndcg_at_10", "recall_at_10", "n_users"}}}
    # (tailor.evaluation.segments); empty in artifacts trained before it was recorded
    segment_metrics: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    peak_rss_mb: float | None = None  # the training process's peak resident memory, when recorded
    settings: dict[str, Any]
    files: dict[str, int]
    checksums: dict[str, str] = {}  # file -> SHA-256 hex; empty in artifacts written before them


@dataclass(frozen=True, eq=False)
class Artifact:
    """A loaded artifact: ids, catalogue rows aligned with item_idx, and fitted models."""

    path: Path
    manifest: Manifest
    user_ids: IdMap
    item_ids: IdMap
    catalogue: pd.DataFrame
    models: dict[str, Recommender]
    ranker: TwoStage | None = None  # None: serving blends the models by reciprocal rank

    @property
    def version(self) -> str:
        return self.manifest.version


def catalogue_of(data: Dataset, listed: Collection[str] | None = None) -> pd.DataFrame:
    """The item facts needed at serving time, one row per item_idx, plus how many users took each.

    `listed` holds the ids in the shop's catalogue; an item known only from old events (deleted
    from the catalogue) is then marked unlisted and never served. None: every item is listed.
    """
    frame = data.item_frame
    n = data.n_items

    def column(name: str, default: Any, dtype: str) -> pd.Series:
        if frame is None or name not in frame:
            return pd.Series([default] * n, dtype=dtype)
        return frame[name].reset_index(drop=True).astype(dtype)

    return pd.DataFrame(
        {
            "item_id": pd.Series(data.item_ids.to_list(), dtype="string"),
            "title": column("title", None, "string"),
            "category": column("category", None, "string"),
            "price": column("price", np.nan, "float64"),
            "stock": column("stock", np.nan, "float64"),
            "hidden": column("hidden", False, "boolean").fillna(False).astype(bool),
            "popularity": pd.Series(data.item_counts, dtype="int64"),
            "listed": _flags(n, None if listed is None else data.item_ids.indices(listed)),
        }
    )


def _flags(n: int, indices: np.ndarray | None) -> np.ndarray:
    """True at `indices` (negative ones ignored); all True when None."""
    if indices is None:
        return np.ones(n, dtype=bool)
    flags = np.zeros(n, dtype=bool)
    flags[indices[indices >= 0]] = True
    return flags


def write_artifact(
    root: str | Path,
    data: Dataset,
    models: dict[str, Recommender],
    *,
    metrics: dict[str, dict[str, float]],
    blend: dict[str, float],
    evaluation: dict[str, Any],
    train_seconds: dict[str, float],
    settings: dict[str, Any],
    skipped: dict[str, str] | None = None,
    listed: Collection[str] | None = None,
    ranker: TwoStage | None = None,
    segment_metrics: dict[str, dict[str, dict[str, dict[str, float]]]] | None = None,
    peak_rss_mb: float | None = None,
    keep: int = DEFAULT_KEEP,
) -> Manifest:
    """Write a new version, make it current and drop all but the newest `keep` versions.

    `listed` are the catalogue's item ids (see `catalogue_of`)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    version = _new_version(data.fingerprint(), list(models), settings)
    temp = root / f"{TEMP_PREFIX}{version}"
    try:
        temp.mkdir()
        _write_json(temp / USERS_FILE, data.user_ids.to_list())
        _write_json(temp / ITEMS_FILE, data.item_ids.to_list())
        catalogue_of(data, listed).to_parquet(temp / CATALOGUE_FILE, index=False)
        for name, model in models.items():
            model.save(temp / MODELS_DIR / name)
        if ranker is not None:
            ranker.save(temp / RANKER_DIR)
        manifest = Manifest(
            version=version,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            data_fingerprint=data.fingerprint(),
            n_users=data.n_users,
            n_items=data.n_items,
            n_events=data.n_events,
            models=list(models),
            blend=blend,
            metrics=metrics,
            evaluation=evaluation,
            train_seconds=train_seconds,
            skipped=skipped or {},
            ranker=None if ranker is None else ranker.describe(),
            segment_metrics=segment_metrics or {},
            peak_rss_mb=peak_rss_mb,
            settings=settings,
            files=_file_sizes(temp),
            checksums=_sync_and_hash(temp),
        )
        _write_json(temp / MANIFEST_FILE, manifest.model_dump(mode="json"), fsync=True)
        _fsync_dir(temp)
        os.rename(temp, root / version)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    switch_current(root, version)
    prune(root, keep)
    return manifest


def switch_current(root: str | Path, version: str) -> None:
    """Point CURRENT at `version` atomically (the version must be a complete artifact)."""
    root = Path(root)
    read_manifest(root / version)
    temp = root / f"{TEMP_PREFIX}{CURRENT_FILE}-{os.getpid()}"
    temp.write_text(version + "\n", encoding="utf-8")
    with open(temp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temp, root / CURRENT_FILE)
    _fsync_dir(root)


def current_version(root: str | Path) -> str | None:
    """The version CURRENT points at, or None before the first training."""
    try:
        version = (Path(root) / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return version or None


def list_versions(root: str | Path) -> list[str]:
    """Complete-looking version directories, oldest first (versions sort by time)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE).exists()
    )


def prune(root: str | Path, keep: int) -> list[str]:
    """Delete all but the newest `keep` versions (the current one is always kept) and temporary
    directories left by crashed writes. Returns the deleted versions."""
    root = Path(root)
    current = current_version(root)
    versions = list_versions(root)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v != current]
    for version in doomed:
        shutil.rmtree(root / version, ignore_errors=True)
    stale = time.time() - STALE_TEMP_SECONDS
    for temp in root.glob(f"{TEMP_PREFIX}*"):
        if temp.is_dir() and temp.stat().st_mtime < stale:
            shutil.rmtree(temp, ignore_errors=True)
    return doomed


def read_manifest(path: str | Path, *, verify_checksums: bool = False) -> Manifest:
    """The manifest of the artifact at `path`, after checking every listed file is there with its
    size, and, with `verify_checksums`, its SHA-256 (this reads every file)."""
    path = Path(path)
    try:
        manifest = Manifest.model_validate_json((path / MANIFEST_FILE).read_bytes())
    except FileNotFoundError:
        raise ArtifactError(
            f"{path} is not a complete artifact: {MANIFEST_FILE} is missing"
        ) from None
    except ValidationError as exc:
        raise ArtifactError(f"{path / MANIFEST_FILE} is not a valid manifest: {exc}") from exc
    if manifest.format != FORMAT:
        raise ArtifactError(
            f"{path} has artifact format {manifest.format}; this Tailor reads {FORMAT}"
        )
    try:  # a version can be deleted while it is read (an erasure replaces it with a scrubbed one)
        for name, size in manifest.files.items():
            file = path / name
            if not file.is_file() or file.stat().st_size != size:
                raise ArtifactError(f"{path} is torn: {name} is missing or has the wrong size")
        if verify_checksums:
            for name, digest in manifest.checksums.items():
                if _sha256(path / name) != digest:
                    raise ArtifactError(f"{path} is corrupt: {name} does not match its checksum")
    except OSError as exc:
        raise ArtifactError(f"{path} could not be read: {exc}") from exc
    return manifest


def load_artifact(root: str | Path, version: str | None = None) -> Artifact:
    """Load `version`; ArtifactError if it is missing or damaged (torn, truncated, edited).

    With None, the current version, or, when that one is damaged, the newest complete one (the
    damaged one is logged and skipped); ArtifactError if no version loads."""
    root = Path(root)
    if version is not None:
        return _load_version(root, version)
    current = current_version(root)
    if current is None:
        raise ArtifactError(f"no trained model in {root}: run `tailor train` first")
    try:
        return _load_version(root, current)
    except ArtifactError as damaged:
        for older in reversed(list_versions(root)):
            if older == current:
                continue
            try:
                artifact = _load_version(root, older)
            except ArtifactError as exc:
                log.error("skipped artifact version %s: %s", older, exc.message)
                continue
            log.error("current artifact version %s is unusable (%s); serving %s",
                      current, damaged.message, older)  # fmt: skip
            return artifact
        raise


def _load_version(root: Path, version: str) -> Artifact:
    path = root / version
    manifest = read_manifest(path, verify_checksums=True)
    try:
        models = {
            name: model_class(name).load(path / MODELS_DIR / name) for name in manifest.models
        }
        ranker = None if manifest.ranker is None else TwoStage.load(path / RANKER_DIR, models)
        return Artifact(
            path=path,
            manifest=manifest,
            user_ids=IdMap(json.loads((path / USERS_FILE).read_text(encoding="utf-8"))),
            item_ids=IdMap(json.loads((path / ITEMS_FILE).read_text(encoding="utf-8"))),
            catalogue=pd.read_parquet(path / CATALOGUE_FILE),
            models=models,
            ranker=ranker,
        )
    except TailorError as exc:
        raise ArtifactError(f"cannot load artifact {path}: {exc.message}") from exc
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot load artifact {path}: {exc}") from exc


def _new_version(fingerprint: str, models: list[str], settings: dict[str, Any]) -> str:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    digest = hashlib.sha256(
        json.dumps(
            [fingerprint, models, settings, now.isoformat()], sort_keys=True, default=str
        ).encode()
    ).hexdigest()[:8]
    return f"{stamp}-{digest}"


def _sync_and_hash(path: Path) -> dict[str, str]:
    """Flush every file under `path` to disk (and their folders), and return their SHA-256."""
    checksums = {}
    for file in sorted(path.rglob("*")):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
            checksums[file.relative_to(path).as_posix()] = _sha256(file)
        else:
            _fsync_dir(file)
    return checksums


def _sha256(file: Path) -> str:
    with open(file, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _file_sizes(path: Path) -> dict[str, int]:
    return {
        p.relative_to(path).as_posix(): p.stat().st_size
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


def _write_json(path: Path, value: Any, *, fsync: bool = False) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
