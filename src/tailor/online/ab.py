"""A/B assignment: a user's variant is a pure function of (experiment salt, user id).

The first 8 bytes of SHA-256("<salt>:<user_id>") read as a fraction of 2**64 pick the variant whose
slice of [0, 1) holds it, slices sized by the variants' weights. So a user keeps their variant on
every request and every replica, and a new salt reshuffles everybody.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tailor.settings import Experiment, OnlineSettings


@dataclass(frozen=True)
class Assignment:
    """The variant a user is in, and what it changes."""

    experiment: str
    variant: str
    rules: dict[str, Any] = field(default_factory=dict)
    search_personalization: float | None = None


def bucket(salt: str, user_id: str) -> float:
    """The user's uniform position in [0, 1) for this salt."""
    digest = hashlib.sha256(f"{salt}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: Experiment, user_id: str) -> Assignment:
    weights = np.array([v.weight for v in experiment.variants], dtype=np.float64)
    edges = np.cumsum(weights) / weights.sum()
    at = bucket(experiment.salt or experiment.name, user_id)
    chosen = experiment.variants[min(int(np.searchsorted(edges, at, side="right")), len(edges) - 1)]
    return Assignment(
        experiment.name, chosen.name, dict(chosen.rules), chosen.search_personalization
    )


class Experiments:
    """The configured experiments, by the scenario each one runs in."""

    def __init__(self, settings: OnlineSettings) -> None:
        self.by_scenario = {s: e for e in settings.experiments for s in e.scenarios}

    def assignment(self, scenario: str, user_id: str | None) -> Assignment | None:
        """The user's variant in the experiment running in `scenario`; None when no experiment
        runs there, or the request names no user."""
        experiment = self.by_scenario.get(scenario)
        if experiment is None or user_id is None:
            return None
        return assign(experiment, user_id)
