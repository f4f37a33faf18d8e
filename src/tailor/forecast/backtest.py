"""Rolling-origin backtest: the last `holdout` steps are held out.

The model is fitted once on the steps before the holdout. Each step of the holdout is then an
origin: the forecaster sees the actual sales up to it and forecasts every remaining holdout step.
Errors are pooled over all (series, origin, target) triples. WAPE = sum |error| / sum actual;
MASE divides a series' mean absolute error by its in-sample mean absolute seasonal difference
(series whose training part never changes are left out of MASE) and averages over series.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from tailor.forecast.baselines import seasonal_naive
from tailor.forecast.model import Forecaster, ForecastParams
from tailor.forecast.series import SalesSeries


@dataclass(frozen=True)
class Backtest:
    wape: float
    mase: float
    wape_seasonal_naive: float
    mase_seasonal_naive: float
    interval_coverage: float  # share of held-out actuals inside the prediction interval
    n_series: int
    n_forecasts: int  # (series, origin, target) triples
    methods: dict[str, int]  # series per method at the first origin


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    total = np.abs(actual).sum()
    return float(np.abs(actual - forecast).sum() / total) if total > 0 else float("nan")


def seasonal_scale(values: np.ndarray, season: int) -> np.ndarray:
    """Mean absolute difference between a step and the same step a season earlier, per series."""
    return np.abs(values[:, season:] - values[:, :-season]).mean(axis=1)


def mase(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> float:
    """`actual`, `forecast`: (n_series, n_forecasts); series with a zero scale are left out."""
    usable = scale > 0
    if not usable.any():
        return float("nan")
    return float((np.abs(actual - forecast)[usable].mean(axis=1) / scale[usable]).mean())


def backtest(series: SalesSeries, holdout: int, params: ForecastParams | None = None) -> Backtest:
    n_steps, season = series.n_steps, series.grid.season
    if not 2 * season <= n_steps - holdout:
        raise ValueError(f"need at least two seasons ({2 * season} steps) before the holdout")
    model = Forecaster(params).fit(series.head(n_steps - holdout))
    actual, predicted, naive, inside = [], [], [], []
    methods: Counter[str] = Counter()
    for origin in range(n_steps - holdout, n_steps):
        history = series.head(origin)
        forecast = model.predict(history, n_steps - origin)
        if not methods:
            methods.update(forecast.methods)
        truth = series.values[:, origin:]
        actual.append(truth)
        predicted.append(forecast.point)
        naive.append(seasonal_naive(history.values, season, n_steps - origin))
        inside.append((truth >= forecast.low) & (truth <= forecast.high))
    y, f, b = (np.concatenate(parts, axis=1) for parts in (actual, predicted, naive))
    scale = seasonal_scale(series.values[:, : n_steps - holdout], season)
    return Backtest(
        wape=wape(y, f),
        mase=mase(y, f, scale),
        wape_seasonal_naive=wape(y, b),
        mase_seasonal_naive=mase(y, b, scale),
        interval_coverage=float(np.concatenate(inside, axis=1).mean()),
        n_series=len(series.keys),
        n_forecasts=y.size,
        methods=dict(methods),
    )
