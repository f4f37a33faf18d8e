"""Propensity models on disk: `<artifacts_dir>/propensity/<version>/` with a manifest, LightGBM
text models and JSON tables, and a `CURRENT` file naming the served version, replaced atomically.
Separate from the recommender artifacts, so either can be retrained alone. Never pickle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tailor import pointer
from tailor.errors import ArtifactError, NotFittedError
from tailor.propensity.features import NEIGHBOURS
from tailor.propensity.model import CalibratedBooster
from tailor.propensity.recommender import load_neighbours, save_neighbours
from tailor.propensity.training import HorizonModels

FOLDER = "propensity"
NEIGHBOURS_FILE = "neighbours.npz"
NOT_TRAINED = "no purchase-prediction model yet: run `tailor train propensity` first"


@dataclass
class PropensityArtifact:
    version: str
    trained_until: int  # ms: the end of the data the models saw
    horizons: dict[int, HorizonModels]
    popularity: dict[str, pd.DataFrame]  # see `tailor.propensity.features.popularity`
    intervals: dict[str, float]  # consumable category -> repurchase interval (days)
    metrics: dict


def root(artifacts_dir: Path) -> Path:
    return Path(artifacts_dir) / FOLDER


def save(artifact: PropensityArtifact, artifacts_dir: Path) -> Path:
    """Write a new version and make it current."""
    folder = root(artifacts_dir) / artifact.version
    folder.mkdir(parents=True, exist_ok=False)
    for days, models in artifact.horizons.items():
        models.user.save(folder, f"user_{days}d")
        models.pair.save(folder, f"pair_{days}d")
    tables = dict(artifact.popularity)
    if NEIGHBOURS in tables:
        save_neighbours(tables.pop(NEIGHBOURS), folder / NEIGHBOURS_FILE)
    manifest = {
        "version": artifact.version,
        "trained_until": artifact.trained_until,
        "days": sorted(artifact.horizons),
        "intervals": artifact.intervals,
        "popularity": {
            level: table.reset_index().to_dict("split") for level, table in tables.items()
        },
        "metrics": artifact.metrics,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False), encoding="utf-8"
    )
    pointer.publish(root(artifacts_dir), artifact.version)
    return folder


def current(artifacts_dir: Path) -> str | None:
    return pointer.current(root(artifacts_dir))


def load(artifacts_dir: Path, version: str | None = None) -> PropensityArtifact:
    version = version or current(artifacts_dir)
    if version is None:
        raise NotFittedError(NOT_TRAINED)
    folder = root(artifacts_dir) / version
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"cannot read propensity version {version}: {exc}") from exc
    horizons = {
        int(d): HorizonModels(
            int(d),
            CalibratedBooster.load(folder, f"user_{d}d"),
            CalibratedBooster.load(folder, f"pair_{d}d"),
        )
        for d in manifest["days"]
    }
    popularity = {}
    for level, split in manifest["popularity"].items():
        table = pd.DataFrame(split["data"], columns=split["columns"])
        popularity[level] = table.set_index(table.columns[0])
    if (folder / NEIGHBOURS_FILE).exists():
        try:
            popularity[NEIGHBOURS] = load_neighbours(folder / NEIGHBOURS_FILE)
        except (OSError, ValueError, KeyError) as exc:
            raise ArtifactError(f"cannot read propensity version {version}: {exc}") from exc
    return PropensityArtifact(
        version=manifest["version"],
        trained_until=manifest["trained_until"],
        horizons=horizons,
        popularity=popularity,
        intervals={str(k): float(v) for k, v in manifest["intervals"].items()},
        metrics=manifest["metrics"],
    )
