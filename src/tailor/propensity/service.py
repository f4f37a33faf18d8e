"""Training a propensity version from the store, and answering purchase-probability questions.

`PropensityService.probability` reads the user's latest events from the store at request time,
so a purchase just posted changes the answer; the models and item popularity are those of the
current version, reloaded when `CURRENT` moves.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

import numpy as np
import pandas as pd

from tailor import pointer
from tailor.errors import InvalidInputError, UnknownItemError, UnknownUserError
from tailor.propensity import artifact
from tailor.propensity.features import (
    CATEGORY,
    ITEM,
    before,
    pair_features,
    popularity,
    prepare_events,
    user_features,
)
from tailor.propensity.repurchase import timing
from tailor.propensity.training import HorizonModels, fit_horizon, intervals_before
from tailor.settings import Settings
from tailor.store.base import Store

Progress = Callable[[str, int, int], None]


def train_propensity(
    store: Store, settings: Settings, progress: Progress | None = None
) -> artifact.PropensityArtifact:
    """Fit every configured horizon on all stored events, save a new version, make it current."""
    events = prepare_events(store.events(), store.items())
    if events.empty:
        raise InvalidInputError("there are no events to learn purchases from", field="events")
    end = int(events["ts"].max()) + 1
    intervals = intervals_before(events, end, settings)
    horizons = {}
    for step, days in enumerate(settings.propensity.days):
        if progress:
            progress(
                f"purchase prediction, {days}-day horizon", step, len(settings.propensity.days)
            )
        horizons[days] = fit_horizon(events, end, days, settings, intervals)
    trained = artifact.PropensityArtifact(
        version=pointer.new_version(),
        trained_until=end,
        horizons=horizons,
        popularity=popularity(before(events, end)),
        intervals=intervals,
        metrics={},
    )
    artifact.save(trained, settings.artifacts_dir)
    return trained


def score_pairs(
    model: artifact.PropensityArtifact,
    horizon: HorizonModels,
    past: pd.DataFrame,
    pairs: pd.DataFrame,
    users: pd.DataFrame,
    items: pd.DataFrame,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The pair features of (user_id, target, level) `pairs` and the calibrated P(buy) of each."""
    categories = items.set_index("item_id")["category"]
    table = pair_features(past, pairs, users, model.popularity, model.intervals, categories)
    return table, horizon.pair.predict(table)


class PropensityService:
    """Calibrated purchase probabilities for one user, from the current version."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._loaded: tuple[artifact.PropensityArtifact, tuple[int, int]] | None = None
        self._lock = threading.Lock()

    def current(self) -> artifact.PropensityArtifact:
        current_file = artifact.root(self.settings.artifacts_dir) / pointer.CURRENT_FILE
        try:
            stat = os.stat(current_file)
            key = (stat.st_ino, stat.st_mtime_ns)
        except FileNotFoundError:
            key = (0, 0)
        with self._lock:
            if self._loaded is None or self._loaded[1] != key:
                self._loaded = (artifact.load(self.settings.artifacts_dir), key)
            return self._loaded[0]

    @staticmethod
    def horizon(model: artifact.PropensityArtifact, days: int) -> HorizonModels:
        """The models of a trained horizon; a 422 naming `days` for any other."""
        if days not in model.horizons:
            trained = ", ".join(str(d) for d in sorted(model.horizons))
            raise InvalidInputError(
                f"days must be one of the trained horizons ({trained}), got {days}; "
                "set propensity.days and run `tailor train propensity`",
                field="days",
            )
        return model.horizons[days]

    def probability(
        self,
        user_id: str,
        days: int,
        *,
        item_id: str | None = None,
        category: str | None = None,
        now: int | None = None,
    ) -> dict:
        model = self.current()
        horizon = self.horizon(model, days)
        now = now if now is not None else time.time_ns() // 1_000_000
        raw = self.store.recent_events(user_id, self.settings.service.history_events)
        if raw.empty:
            raise UnknownUserError(user_id)
        items = self._items(raw, item_id)
        events = prepare_events(raw, items)
        past = before(events, now)
        users = user_features(past, self.settings.profiles)
        answer: dict = {
            "user_id": user_id,
            "days": days,
            "model_version": model.version,
            "probability": _round(horizon.user.predict(users)[0]) if len(users) else None,
        }
        targets = []
        if item_id is not None:
            item_category = items.set_index("item_id")["category"].get(item_id)
            targets.append((item_id, ITEM, "item"))
            if isinstance(item_category, str):
                category = category or item_category
        if category is not None:
            targets.append((category, CATEGORY, "category"))
        if targets and len(users):
            pairs = pd.DataFrame(
                {
                    "user_id": user_id,
                    "target": [t for t, _, _ in targets],
                    "level": [lv for _, lv, _ in targets],
                }
            )
            _, probabilities = score_pairs(model, horizon, past, pairs, users, items)
            for (target, _, name), p in zip(targets, probabilities):
                answer[name] = {"id": target, "probability": _round(p)}
        if category is not None:
            repurchase = timing(past, category, model.intervals, now)
            answer["repurchase"] = asdict(repurchase) if repurchase else None
        return answer

    def _items(self, events: pd.DataFrame, item_id: str | None) -> pd.DataFrame:
        ids = set(events["item_id"].dropna().astype(str))
        if item_id is not None:
            ids.add(item_id)
        items = self.store.items(sorted(ids))
        if item_id is not None and item_id not in set(items["item_id"]):
            raise UnknownItemError(item_id)
        return items


def _round(p: float) -> float:
    return round(float(np.clip(p, 0.0, 1.0)), 6)
