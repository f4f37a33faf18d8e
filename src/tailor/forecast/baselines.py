"""Simple forecasts, used for sparse or short series and as the yardstick.

Each takes the history `values` (n_series, n_steps) and returns point forecasts (n_series, horizon).
"""

from __future__ import annotations

import numpy as np
from scipy.special import pdtr, pdtrik


def seasonal_naive(values: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """Each step repeats the same position of the last full season (the last value if shorter)."""
    n_steps = values.shape[1]
    if n_steps < season:
        return np.repeat(values[:, -1:], horizon, axis=1)
    ahead = np.arange(horizon)
    return values[:, n_steps - season + ahead % season]


def moving_average(values: np.ndarray, window: int, horizon: int) -> np.ndarray:
    """The mean of the last `window` steps, flat."""
    return np.repeat(values[:, -window:].mean(axis=1, keepdims=True), horizon, axis=1)


def croston_sba(values: np.ndarray, horizon: int, alpha: float = 0.1) -> np.ndarray:
    """Croston's method with the Syntetos-Boylan correction: smoothed demand size over smoothed
    interval between demands, flat. Made for intermittent series (mostly zeros)."""
    n_series, n_steps = values.shape
    size = np.zeros(n_series)
    interval = np.ones(n_series)
    since = np.ones(n_series)
    seen = np.zeros(n_series, dtype=bool)
    for t in range(n_steps):
        demand = values[:, t] > 0
        first = demand & ~seen
        later = demand & seen
        size[first], interval[first] = values[first, t], since[first]
        size[later] += alpha * (values[later, t] - size[later])
        interval[later] += alpha * (since[later] - interval[later])
        seen |= demand
        since = np.where(demand, 1.0, since + 1.0)
    rate = np.where(seen, (1 - alpha / 2) * size / interval, 0.0)
    return np.repeat(rate[:, None], horizon, axis=1)


def poisson_interval(point: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central `level` interval of a Poisson count of mean `point`: the simple methods' spread."""
    tail = (1 - level) / 2
    return _poisson_quantile(tail, point), _poisson_quantile(1 - tail, point)


def _poisson_quantile(q: float, mean: np.ndarray) -> np.ndarray:
    """The smallest count k with P(X <= k) >= q, for X ~ Poisson(mean) (0 where mean is 0).

    scipy.stats.poisson.ppf gives the same; scipy.stats takes about a second to import."""
    mean = np.asarray(mean, dtype=np.float64)
    positive = mean > 0
    rate = np.where(positive, mean, 1.0)
    upper = np.ceil(pdtrik(q, rate))
    below = np.maximum(upper - 1, 0)
    k = np.where(pdtr(below, rate) >= q, below, upper)
    return np.where(positive, k, 0.0)
