"""Hyperparameter search as parallel trials: one Ray task per point of a grid.

A trial fits the model with the configured params plus the point's on the evaluation's time
split (`tailor.engine.train.holdout_cutoff`) and measures it on the holdout. A trial is the same
computation as `run_trial` on one machine, so its metrics are identical; the cluster only runs
the trials side by side.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tailor.data.dataset import Dataset
from tailor.data.splits import TimeSplit, time_split
from tailor.distributed import require_ray
from tailor.engine.train import KS, build_models, fit_models, holdout_cutoff
from tailor.errors import InvalidInputError
from tailor.evaluation import ranking_metrics
from tailor.evaluation.offline import rank
from tailor.settings import Settings

TARGET = "ndcg_at_10"  # what the best trial has most of


@dataclass(frozen=True)
class Trial:
    model: str
    params: dict[str, Any]  # the grid point (on top of the configured params)
    metrics: dict[str, float]
    fit_seconds: float


def parse_grid(options: Sequence[str]) -> dict[str, dict[str, list[Any]]]:
    """`model.param=v1,v2` options as {model: {param: [v1, v2]}}; values are JSON (else text)."""
    grids: dict[str, dict[str, list[Any]]] = {}
    for option in options:
        key, sep, values = option.partition("=")
        model, dot, param = key.strip().partition(".")
        if not (sep and dot and model and param and values.strip()):
            raise InvalidInputError(
                f"expected model.param=v1,v2 (e.g. als.factors=32,64), got {option!r}",
                field="search",
            )
        grids.setdefault(model, {})[param] = [_value(v.strip()) for v in values.split(",")]
    return grids


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def with_params(settings: Settings, model: str, params: Mapping[str, Any]) -> Settings:
    """`settings` with `params` added to `train.model_params[model]`."""
    before = settings.train.model_params
    merged = {**before, model: {**before.get(model, {}), **params}}
    train = settings.train.model_copy(update={"model_params": merged})
    return settings.model_copy(update={"train": train})


def run_trial(split: TimeSplit, settings: Settings, model: str, params: dict[str, Any]) -> Trial:
    """Fit `model` with `params` before the split's cutoff and measure it after."""
    trial = with_params(settings, model, params)
    candidates = {model: build_models(trial)[model]}
    fitted = fit_models(candidates, split.train, trial, None, "trial")
    ranked = rank(fitted.models[model], split.test.users, max(KS))
    metrics = ranking_metrics(ranked, split.test.targets, KS, train=split.train)
    return Trial(model, params, metrics, fitted.seconds[model])


def search(
    data: Dataset, settings: Settings, model: str, grid: Mapping[str, Sequence[Any]]
) -> list[Trial]:
    """Every point of `grid` for `model`, each a Ray task; best `TARGET` first."""
    ray = require_ray()
    if model not in settings.train.models:
        raise InvalidInputError(
            f"--search names {model!r}, which is not in train.models", field="search"
        )
    split = ray.put(time_split(data, holdout_cutoff(data)))
    task = ray.remote(num_cpus=settings.train.threads)(run_trial)
    trials = ray.get([task.remote(split, settings, model, p) for p in grid_points(grid)])
    return sorted(trials, key=lambda t: -t.metrics[TARGET])
