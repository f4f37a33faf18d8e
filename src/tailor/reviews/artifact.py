"""Review models on disk: `<artifacts_dir>/reviews/<version>/` holding a manifest and the
sentiment model's arrays, and a `CURRENT` file naming the served version, replaced atomically.
Apart from the recommender artifacts, so either is retrained alone (`tailor train reviews`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tailor import pointer
from tailor.errors import ArtifactError, NotFittedError
from tailor.reviews.sentiment import SentimentModel

FOLDER = "reviews"
MANIFEST_FILE = "manifest.json"
NOT_TRAINED = "no review model yet: run `tailor train reviews` first"


@dataclass
class ReviewModelVersion:
    version: str
    text_encoder: str
    sentiment: SentimentModel
    n_reviews: int
    label_counts: dict[str, int]
    metrics: dict = field(default_factory=dict)  # held-out figures of the training run


def root(artifacts_dir: Path) -> Path:
    return Path(artifacts_dir) / FOLDER


def save(trained: ReviewModelVersion, artifacts_dir: Path) -> Path:
    """Write a new version and make it current."""
    folder = root(artifacts_dir) / trained.version
    folder.mkdir(parents=True, exist_ok=False)
    trained.sentiment.save(folder)
    manifest = {
        "version": trained.version,
        "text_encoder": trained.text_encoder,
        "n_reviews": trained.n_reviews,
        "label_counts": trained.label_counts,
        "metrics": trained.metrics,
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    pointer.publish(root(artifacts_dir), trained.version)
    return folder


def current(artifacts_dir: Path) -> str | None:
    return pointer.current(root(artifacts_dir))


def load(artifacts_dir: Path) -> ReviewModelVersion:
    version = current(artifacts_dir)
    if version is None:
        raise NotFittedError(NOT_TRAINED)
    folder = root(artifacts_dir) / version
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read review model version {version}: {exc}") from exc
    return ReviewModelVersion(
        version=manifest["version"],
        text_encoder=manifest["text_encoder"],
        sentiment=SentimentModel.load(folder),
        n_reviews=manifest["n_reviews"],
        label_counts=manifest["label_counts"],
        metrics=manifest["metrics"],
    )
