"""Probability metrics: AUC, log-loss, Brier, expected calibration error, reliability bins, and
bootstrap confidence intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

RELIABILITY_BINS = 10


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_predicted: float
    observed_rate: float


def reliability(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> list[ReliabilityBin]:
    """Equal-width bins of predicted probability; empty bins left out."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    index = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        if mask.any():
            out.append(
                ReliabilityBin(
                    b / bins,
                    (b + 1) / bins,
                    int(mask.sum()),
                    float(p[mask].mean()),
                    float(y[mask].mean()),
                )
            )
    return out


def ece(y: np.ndarray, p: np.ndarray, bins: int = RELIABILITY_BINS) -> float:
    """Expected calibration error: the count-weighted mean |observed - predicted| over the bins."""
    cells = reliability(y, p, bins)
    n = sum(c.count for c in cells)
    return float(sum(c.count * abs(c.observed_rate - c.mean_predicted) for c in cells) / n)


def scores(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return {
        "auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, clipped, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": ece(y, p),
        "positive_rate": float(np.mean(y)),
    }


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    p: np.ndarray,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `metric(y, p)` over rows drawn with replacement."""
    rng = np.random.default_rng(seed)
    y, p = np.asarray(y), np.asarray(p)
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].min() != y[rows].max():
            values.append(metric(y[rows], p[rows]))
    tail = (1 - level) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def paired_auc_difference_ci(
    y: np.ndarray, p: np.ndarray, q: np.ndarray, *, resamples: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% bootstrap interval of AUC(p) - AUC(q) on the same resampled rows."""
    stacked = np.column_stack([p, q])
    return bootstrap_ci(
        lambda yy, pq: roc_auc_score(yy, pq[:, 0]) - roc_auc_score(yy, pq[:, 1]),
        y,
        stacked,
        resamples=resamples,
        seed=seed,
    )
