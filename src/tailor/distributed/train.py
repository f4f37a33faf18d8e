"""`tailor train --ray`: the training run of `tailor.engine.train` with its heavy steps on Ray.

1. the events are read by Ray Data (`data.py`);
2. the catalogue's texts are encoded on the cluster into the models' text cache (`text.py`);
3. `--search` grids are tried as parallel trials and the best point joins the settings
   (`search.py`);
4. the sequence Transformer is fitted by Ray Train with DDP (`sequence.py`); the other models
   fit in the driver as on one machine.
The evaluation, the ranker and the artifact are those of `tailor.engine.train.train`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tailor.artifacts import Manifest
from tailor.data.dataset import Dataset
from tailor.distributed import connect, cpu_count
from tailor.distributed import data as ray_data
from tailor.distributed.search import Trial, parse_grid, search, with_params
from tailor.distributed.text import fill_cache
from tailor.engine import Engine, Progress
from tailor.engine.train import build_models
from tailor.engine.train import train as train_artifact
from tailor.models import Recommender
from tailor.settings import Settings


@dataclass(frozen=True)
class RayTraining:
    address: str = "auto"
    events: Path | None = None  # a Parquet export to read instead of the store's events
    search: Sequence[str] = ()  # model.param=v1,v2 grids
    storage: Path | None = None  # Ray Train checkpoints: shared by all nodes (default: a temp dir)
    workers: int | None = None  # Ray Train workers (default: the cluster's CPUs)


@dataclass(frozen=True)
class RayResult:
    manifest: Manifest
    trials: dict[str, list[Trial]] = field(default_factory=dict)


def train_on_ray(
    engine: Engine,
    options: RayTraining,
    progress: Progress | None = None,
    *,
    evaluate: bool = True,
) -> RayResult:
    """Train as `Engine.train` does, with the work spread over the Ray cluster; the engine
    serves the new version."""
    connect(options.address)
    settings = engine.settings
    _step(progress, "reading the events (Ray Data)")
    prepared = ray_data.load_dataset(engine.store, settings, options.events)
    with tempfile.TemporaryDirectory(prefix="tailor-ray-") as scratch:
        _step(progress, "encoding the catalogue text (Ray Data)")
        settings = _encode_text(settings, prepared[0], Path(scratch) / "text-cache")
        trials = {}
        for model, grid in parse_grid(options.search).items():
            _step(progress, f"searching {model} (Ray tasks)")
            trials[model] = search(prepared[0], settings, model, grid)
            settings = with_params(settings, model, trials[model][0].params)
        fit = partial(
            _fit,
            workers=options.workers or cpu_count(),
            storage=options.storage or Path(scratch) / "ray-train",
        )
        manifest = train_artifact(
            engine.store, settings, progress, evaluate=evaluate, prepared=prepared, fit=fit
        )
    engine.load(manifest.version)
    return RayResult(manifest, trials)


def _encode_text(settings: Settings, data: Dataset, default_cache: Path) -> Settings:
    """Encode the item texts once on the cluster for every model that reads them, into each
    model's `text_cache_dir` (set to `default_cache` where none is configured)."""
    filled = set()
    for name, model in build_models(settings).items():
        params = model.params.model_dump()
        if "text_cache_dir" not in params or not params.get("text", True):
            continue
        cache = params["text_cache_dir"] or str(default_cache)
        if (params["text_encoder"], cache) not in filled:
            fill_cache(data.item_text(), params["text_encoder"], cache, threads=params["threads"])
            filled.add((params["text_encoder"], cache))
        settings = with_params(settings, name, {"text_cache_dir": cache})
    return settings


def _fit(model: Recommender, data: Dataset, *, workers: int, storage: Path) -> Recommender:
    from tailor.models.transformer import SequenceTransformer

    if isinstance(model, SequenceTransformer):
        from tailor.distributed.sequence import fit_transformer

        return fit_transformer(model, data, workers=workers, storage=storage)
    return model.fit(data)


def _step(progress: Progress | None, step: str) -> None:
    if progress is not None:
        progress(step, 0, None)
