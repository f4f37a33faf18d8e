"""Lag and calendar features of (series, origin, steps ahead), scaled by the series' recent level.

Everything is divided by the series' mean over the last `window` steps before the origin, so one
model serves series of any volume; the level itself is a feature (log). The target is the step's
sales over the same scale.
"""

from __future__ import annotations

import numpy as np

from tailor.forecast.series import Grid

FEATURES = [
    "seasonal_naive",
    "same_phase_mean",
    "last_season_mean",
    "last_step",
    "log_level",
    "phase",
    "steps_ahead",
]
PHASE = FEATURES.index("phase")


def level(values: np.ndarray, rows: np.ndarray, origins: np.ndarray, window: int) -> np.ndarray:
    """Mean sales of the `window` steps before each origin, floored at half a unit per window."""
    cum = np.concatenate([np.zeros((values.shape[0], 1)), np.cumsum(values, axis=1)], axis=1)
    start = np.maximum(origins - window, 0)
    mean = (cum[rows, origins] - cum[rows, start]) / np.maximum(origins - start, 1)
    return np.maximum(mean, 0.5 / window)


def feature_matrix(
    values: np.ndarray,
    grid: Grid,
    rows: np.ndarray,
    origins: np.ndarray,
    ahead: np.ndarray,
    *,
    window: int,
    max_ahead: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Features (len(rows), len(FEATURES)) and the scale of each row. `ahead` counts from 0; the
    history used is strictly before each origin (at least one season of it)."""
    season = grid.season
    scale = level(values, rows, origins, window)
    position = ahead % season
    seasons_back = np.arange(1, window // season + 1)
    back = origins[:, None] - season * seasons_back[None, :] + position[:, None]
    available = back >= 0
    same_phase = np.where(available, values[rows[:, None], np.maximum(back, 0)], 0.0)
    same_phase_mean = same_phase.sum(axis=1) / np.maximum(available.sum(axis=1), 1)
    last_season = level(values, rows, origins, season)
    matrix = np.column_stack(
        [
            values[rows, origins - season + position] / scale,
            same_phase_mean / scale,
            last_season / scale,
            values[rows, origins - 1] / scale,
            np.log(scale),
            grid.phase(origins + ahead),
            np.minimum(ahead, max_ahead - 1),
        ]
    )
    return matrix, scale


def training_rows(
    n_steps: int, rows: np.ndarray, season: int, horizon: int, stride: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (row, origin, ahead) whose target lies in the history, origins every `stride` steps
    from one season in."""
    origins = np.arange(season, n_steps, stride)
    ahead = np.arange(horizon)
    r, o, a = (g.ravel() for g in np.meshgrid(rows, origins, ahead, indexing="ij"))
    keep = o + a < n_steps
    return r[keep], o[keep], a[keep]
