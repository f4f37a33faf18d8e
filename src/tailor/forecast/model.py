"""`Forecaster`: a global LightGBM model over lag and calendar features, with quantile models for
the prediction interval, and simple methods for the series it should not be trusted with.

Per series, the method is chosen from its history:
- shorter than two seasons: `moving_average` of what there is;
- sparse (fewer than `min_nonzero_share` of the last `window` steps sold anything): `croston`;
- otherwise `lightgbm` (or `seasonal_naive` when too few dense series were seen to train it).
The simple methods' intervals are Poisson intervals around their forecast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tailor.forecast.baselines import croston_sba, moving_average, poisson_interval, seasonal_naive
from tailor.forecast.features import FEATURES, PHASE, feature_matrix, training_rows
from tailor.forecast.series import SalesSeries

METHODS = ("lightgbm", "seasonal_naive", "croston", "moving_average")


class ForecastParams(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    window_seasons: int = Field(
        4, ge=1, description="the level and same-phase features look back this many seasons"
    )
    min_nonzero_share: float = Field(0.3, ge=0.0, le=1.0, description="below it a series is sparse")
    level: float = Field(0.8, gt=0.0, lt=1.0, description="coverage of the prediction interval")
    train_horizon: int = Field(28, ge=1, description="steps ahead the model is trained on")
    origin_stride: int = Field(2, ge=1, description="training origins every this many steps")
    min_train_rows: int = Field(500, ge=1)
    n_estimators: int = Field(150, ge=1)
    learning_rate: float = Field(0.05, gt=0.0)
    num_leaves: int = Field(15, ge=2)
    min_data_in_leaf: int = Field(20, ge=1)
    random_state: int = 0


@dataclass(frozen=True)
class Forecast:
    keys: list[str]
    methods: list[str]
    times: np.ndarray  # (horizon,) start of each step, ms
    point: np.ndarray  # (n_series, horizon) expected units
    low: np.ndarray  # interval bounds at `level`
    high: np.ndarray
    level: float


class Forecaster:
    def __init__(self, params: ForecastParams | None = None) -> None:
        self.params = params or ForecastParams()
        self.boosters_: dict[str, Any] | None = None

    def _window(self, season: int) -> int:
        return season * self.params.window_seasons

    def methods(self, series: SalesSeries) -> np.ndarray:
        """The method of each series given its history."""
        season, values = series.grid.season, series.values
        if series.n_steps < 2 * season:
            return np.full(len(values), "moving_average", dtype=object)
        recent = values[:, -self._window(season) :]
        sparse = (recent > 0).mean(axis=1) < self.params.min_nonzero_share
        dense = "lightgbm" if self.boosters_ is not None else "seasonal_naive"
        return np.where(sparse, "croston", dense).astype(object)

    def fit(self, series: SalesSeries) -> Self:
        """Train on every dense series; too little to learn from leaves the simple methods."""
        import lightgbm

        self.boosters_ = None
        p, season = self.params, series.grid.season
        if series.n_steps < 2 * season:
            return self
        rows = np.flatnonzero(self.methods(series) != "croston")
        r, o, a = training_rows(series.n_steps, rows, season, p.train_horizon, p.origin_stride)
        if len(r) < p.min_train_rows:
            return self
        matrix, scale = self._features(series, r, o, a)
        target = series.values[r, o + a] / scale
        boosters = {}
        for name, objective in (("point", {"objective": "regression"}),) + tuple(
            (name, {"objective": "quantile", "alpha": alpha})
            for name, alpha in (("low", (1 - p.level) / 2), ("high", (1 + p.level) / 2))
        ):
            dataset = lightgbm.Dataset(
                matrix, label=target, feature_name=FEATURES, categorical_feature=[PHASE]
            )
            boosters[name] = lightgbm.train(
                {
                    **objective,
                    "learning_rate": p.learning_rate,
                    "num_leaves": p.num_leaves,
                    "min_data_in_leaf": p.min_data_in_leaf,
                    "seed": p.random_state,
                    "num_threads": 1,
                    "deterministic": True,
                    "verbose": -1,
                },
                dataset,
                num_boost_round=p.n_estimators,
            )
        self.boosters_ = boosters
        return self

    def _features(
        self, series: SalesSeries, rows: np.ndarray, origins: np.ndarray, ahead: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        return feature_matrix(
            series.values,
            series.grid,
            rows,
            origins,
            ahead,
            window=self._window(series.grid.season),
            max_ahead=self.params.train_horizon,
        )

    def predict(self, series: SalesSeries, horizon: int) -> Forecast:
        """Forecast the `horizon` steps after the end of `series`."""
        season, values, level = series.grid.season, series.values, self.params.level
        methods = self.methods(series)
        point = np.zeros((len(values), horizon))
        for method, forecast in (
            ("moving_average", lambda v: moving_average(v, season, horizon)),
            ("seasonal_naive", lambda v: seasonal_naive(v, season, horizon)),
            ("croston", lambda v: croston_sba(v, horizon)),
        ):
            chosen = methods == method
            point[chosen] = forecast(values[chosen]) if chosen.any() else 0.0
        low, high = poisson_interval(point, level)
        learned = np.flatnonzero(methods == "lightgbm")
        if len(learned):
            point[learned], low[learned], high[learned] = self._learned(series, learned, horizon)
        return Forecast(
            keys=series.keys,
            methods=methods.tolist(),
            times=series.grid.times(series.n_steps, horizon),
            point=point,
            low=np.minimum(low, point),
            high=np.maximum(high, point),
            level=level,
        )

    def _learned(
        self, series: SalesSeries, rows: np.ndarray, horizon: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        assert self.boosters_ is not None
        r = np.repeat(rows, horizon)
        a = np.tile(np.arange(horizon), len(rows))
        o = np.full(len(r), series.n_steps)
        matrix, scale = self._features(series, r, o, a)
        shape = (len(rows), horizon)
        return tuple(
            np.maximum(self.boosters_[name].predict(matrix) * scale, 0.0).reshape(shape)
            for name in ("point", "low", "high")
        )
