"""Training: store -> Dataset -> evaluate on a time holdout -> fit on everything -> artifact.

The holdout is the latest `HOLDOUT_FRACTION` of the events by time (the cutoff is the 90th
percentile of event timestamps, not 90% of the time range: in the Taobao sample a few stray
events two months early stretch the range so that its last 10% holds 95% of the events). Models are fitted on
the events before the cutoff and scored on what users did after it. The artifact's models are
then refitted on all events, so serving uses everything the shop knows.

With `train.ranker.enabled`, a LightGBM ranker over the models' candidates is trained on a second
time split inside the data at hand (`tailor.rank.ranker`): in the evaluation inside the events
before the holdout cutoff, so its holdout figures are as honest as the models'; for the
artifact inside all events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from threadpoolctl import threadpool_limits

from tailor.artifacts import Manifest, write_artifact
from tailor.data.dataset import Dataset
from tailor.data.splits import TimeSplit, time_split
from tailor.errors import ConfigError, InvalidInputError, UnsupportedError
from tailor.evaluation import ranking_metrics
from tailor.evaluation.offline import rank
from tailor.evaluation.report import peak_rss_mb
from tailor.evaluation.segments import segment_metrics
from tailor.models import Recommender, model_class
from tailor.rank.blend import Blend
from tailor.rank.ranker import TwoStage, rank_users
from tailor.rank.ranker_training import fit_two_stage, ranker_cutoff, ranker_split
from tailor.risk import training_events
from tailor.settings import Settings
from tailor.store.base import Store

HOLDOUT_FRACTION = 0.1
KS = (5, 10)
BLEND = "blend"
RANKER = "ranker"

# Called with a step description, the steps done and the steps in all (None: unknown).
Progress = Callable[[str, int, int | None], None]
# Fits a model on a Dataset and returns the fitted model: `Recommender.fit` here, or a fit
# elsewhere (`tailor.distributed`).
Fit = Callable[[Recommender, Dataset], Recommender]


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, dict[str, float]]  # per model, plus the blend and the ranker
    protocol: dict[str, Any]
    fit_seconds: dict[str, float]
    skipped: dict[str, str]  # model -> why it cannot be fitted on this data
    # per model: NDCG@10 and Recall@10 by history-length and by popularity bucket
    segments: dict[str, dict[str, dict[str, dict[str, float]]]] = field(default_factory=dict)


NOT_EVALUATED = Evaluation(
    metrics={}, protocol={"name": "not evaluated"}, fit_seconds={}, skipped={}
)


def load_dataset(store: Store, settings: Settings) -> tuple[Dataset, pd.Series | None]:
    """The store's events as a Dataset, and the catalogue's item ids (None without a catalogue)."""
    events = store.events()
    if not len(events):
        raise InvalidInputError(
            "the store holds no events yet: import some with `tailor import events FILE`"
        )
    items = store.items()
    events, _ = training_events(events, store.users(), settings.risk)  # flagged users left out
    data = Dataset.from_events(events, items, settings.ingest.event_weights)
    return data, (items["item_id"].astype(str) if len(items) else None)


def build_models(settings: Settings) -> dict[str, Recommender]:
    """Unfitted models named in settings, with their params; seeds and threads filled in when accepted."""
    models = {}
    for name in settings.train.models:
        cls = model_class(name)
        params = dict(settings.train.model_params.get(name, {}))
        defaults = {
            "random_state": settings.train.random_state,
            "threads": settings.train.threads,
            "num_threads": settings.train.threads,
        }
        for key, value in defaults.items():
            if key in cls.Params.model_fields:
                params.setdefault(key, value)
        try:
            models[name] = cls(**params)
        except ValidationError as exc:
            raise ConfigError(f"train.model_params.{name} is invalid: {exc}") from exc
    return models


def evaluate_models(
    data: Dataset, settings: Settings, progress: Progress | None = None
) -> Evaluation:
    """Fit every configured model before the cutoff and measure it, the blend and the ranker
    after it."""
    return _evaluate(data, settings, progress)[0]


def holdout_cutoff(data: Dataset) -> int:
    """The evaluation's cutoff: the timestamp at the latest `HOLDOUT_FRACTION` of the events."""
    return int(np.quantile(data.ts, 1.0 - HOLDOUT_FRACTION, method="higher"))


def _evaluate(
    data: Dataset, settings: Settings, progress: Progress | None, fit: Fit | None = None
) -> tuple[Evaluation, _Held]:
    cutoff = holdout_cutoff(data)
    split = time_split(data, cutoff)
    train_part, holdout = split.train, split.test
    if not len(holdout):
        raise InvalidInputError(
            "no user has events both before and after the holdout cutoff: nothing to evaluate on"
        )
    fitted = fit_models(
        build_models(settings), train_part, settings, progress, "evaluating", fit
    )
    measured = {name: _measure(model, split) for name, model in fitted.models.items()}
    measured[BLEND] = _measure(Blend(fitted.models, settings.train.blend_weights), split)
    metrics = {name: overall for name, (overall, _) in measured.items()}
    segments = {name: by_segment for name, (_, by_segment) in measured.items()}
    skipped = dict(fitted.skipped)
    two_stage = _fit_ranker(
        train_part, fitted.models, settings, progress, skipped, "evaluating", fit=fit
    )
    if two_stage is not None:
        ranked = rank_users(two_stage, train_part, holdout.users, max(KS))
        metrics[RANKER] = ranking_metrics(ranked, holdout.targets, KS, train=train_part)
        segments[RANKER] = _segments(ranked, split)
    protocol = {
        "name": "time holdout",
        "data_fingerprint": data.fingerprint(),
        "random_state": settings.train.random_state,
        "cutoff_ts": cutoff,
        "holdout_fraction_of_events": HOLDOUT_FRACTION,
        "n_train_events": train_part.n_events,
        "n_test_users": len(holdout),
        "seen_items_masked": True,
        "ks": list(KS),
    }
    evaluation = Evaluation(
        metrics, protocol, fit_seconds=fitted.seconds, skipped=skipped, segments=segments
    )
    return evaluation, _Held(cutoff, split, fitted.models)


def train(
    store: Store,
    settings: Settings,
    progress: Progress | None = None,
    *,
    evaluate: bool = True,
    prepared: tuple[Dataset, pd.Series | None] | None = None,
    fit: Fit | None = None,
) -> Manifest:
    """Evaluate (unless told not to), refit on all events, write a new artifact and make it current.

    `prepared` is the store's `load_dataset` result when it was read elsewhere, and `fit` fits
    models in place of `Recommender.fit` (both: `tailor.distributed`, for `tailor train --ray`)."""
    data, listed = prepared if prepared is not None else load_dataset(store, settings)
    evaluation, held = (
        _evaluate(data, settings, progress, fit) if evaluate else (NOT_EVALUATED, None)
    )
    candidates = {n: m for n, m in build_models(settings).items() if n not in evaluation.skipped}
    fitted = fit_models(candidates, data, settings, progress, "fitting on all events:", fit)
    skipped = {**evaluation.skipped, **fitted.skipped}
    skipped.pop(RANKER, None)  # decided afresh on all events
    two_stage = _fit_ranker(
        data, fitted.models, settings, progress, skipped, "ranker:", held, fit
    )
    _report(progress, "writing the artifact", 0, None)
    manifest = write_artifact(
        settings.artifacts_dir,
        data,
        fitted.models,
        metrics=evaluation.metrics,
        blend={name: settings.train.blend_weights.get(name, 1.0) for name in fitted.models},
        evaluation=evaluation.protocol,
        train_seconds=fitted.seconds,
        skipped=skipped,
        settings=_public_settings(settings),
        listed=listed,
        ranker=two_stage,
        segment_metrics=evaluation.segments,
        peak_rss_mb=peak_rss_mb(),
    )
    _report(progress, f"artifact {manifest.version} is current", 1, 1)
    return manifest


def _fit_ranker(
    data: Dataset,
    serving: dict[str, Recommender],
    settings: Settings,
    progress: Progress | None,
    skipped: dict[str, str],
    label: str,
    held: _Held | None = None,
    fit: Fit | None = None,
) -> TwoStage | None:
    """The two-stage ranker over `serving` (models fitted on all of `data`), trained on a time
    split of `data`; None when it is off, or (with the reason in `skipped`) cannot be trained.
    The models of `held` are reused when they were fitted before the ranker's own cutoff."""
    ranker_settings = settings.train.ranker
    if not ranker_settings.enabled:
        return None
    try:
        if held is not None and held.cutoff == ranker_cutoff(data, ranker_settings):
            split, before = held.split, held.models
        else:
            split = ranker_split(data, ranker_settings)
            wanted = {n: m for n, m in build_models(settings).items() if n in serving}
            before = fit_models(
                wanted, split.train, settings, progress, f"{label} sources before its cutoff:", fit
            ).models
        _report(progress, f"{label} the ranker", 0, None)
        with threadpool_limits(settings.train.threads):
            return fit_two_stage(
                data, split, before, serving, ranker_settings,
                threads=settings.train.threads, random_state=settings.train.random_state,
            )  # fmt: skip
    except UnsupportedError as exc:
        skipped[RANKER] = exc.message
        return None


@dataclass(frozen=True)
class _Held:
    """The evaluation's split and the models it fitted before the cutoff."""

    cutoff: int
    split: TimeSplit
    models: dict[str, Recommender]


@dataclass(frozen=True)
class _Fitted:
    models: dict[str, Recommender]
    seconds: dict[str, float]
    skipped: dict[str, str]


def fit_models(
    models: dict[str, Recommender],
    data: Dataset,
    settings: Settings,
    progress: Progress | None,
    label: str,
    fit: Fit | None = None,
) -> _Fitted:
    """Fit each model (with `fit` when given); one that cannot handle this data
    (UnsupportedError) is skipped with its reason, so one oversized model does not sink the
    others. At least one must fit."""
    fitted, seconds, skipped = {}, {}, {}
    for step, (name, model) in enumerate(models.items()):
        _report(progress, f"{label} {name}", step, len(models))
        try:
            fitted[name], seconds[name] = _timed_fit(model, data, settings, fit)
        except UnsupportedError as exc:
            skipped[name] = exc.message
    if not fitted:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in skipped.items())
        raise UnsupportedError(f"none of the configured models could be fitted ({reasons})")
    return _Fitted(fitted, seconds, skipped)


def _timed_fit(
    model: Recommender, data: Dataset, settings: Settings, fit: Fit | None = None
) -> tuple[Recommender, float]:
    start = time.perf_counter()
    with threadpool_limits(settings.train.threads):
        model = (fit or type(model).fit)(model, data)
    return model, round(time.perf_counter() - start, 3)


def _measure(
    model: Recommender, split: TimeSplit
) -> tuple[dict[str, float], dict[str, dict[str, dict[str, float]]]]:
    """Accuracy at each k, plus MRR, catalogue coverage and novelty at the largest k; and the
    accuracy by segment."""
    ranked = rank(model, split.test.users, max(KS))
    overall = ranking_metrics(ranked, split.test.targets, KS, train=split.train)
    return overall, _segments(ranked, split)


def _segments(ranked: np.ndarray, split: TimeSplit) -> dict[str, dict[str, dict[str, float]]]:
    lengths = np.fromiter((len(h) for h in split.test.users.histories), dtype=np.int64)
    interactions = np.bincount(split.train.items, minlength=split.train.n_items)
    return segment_metrics(ranked, split.test.targets, lengths, interactions)


def _public_settings(settings: Settings) -> dict[str, Any]:
    """The settings as JSON, with any password in the store URL masked."""
    values = settings.model_dump(mode="json")
    values["store_url"] = make_url(settings.store_url).render_as_string(hide_password=True)
    return values


def _report(progress: Progress | None, step: str, done: int, total: int | None) -> None:
    if progress is not None:
        progress(step, done, total)
