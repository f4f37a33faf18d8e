"""The calibration's cross-fit never scores a window with a booster fitted on a window whose label
period shares time with it (windows one day apart at a horizon of two days count the same
purchases)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tailor.propensity.features import DAY_MS
from tailor.propensity.model import CalibratedBooster, cross_fit_folds
from tailor.propensity.training import label_period


def _periods(n_windows: int, days: int, step_days: int) -> list[tuple[int, int]]:
    """The windows `tailor.propensity.training.cutoffs` makes, latest first."""
    anchor = 100 * DAY_MS
    return [label_period(anchor - (days + k * step_days) * DAY_MS, days) for k in range(n_windows)]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


@given(
    n_windows=st.integers(2, 10),
    folds=st.integers(2, 6),
    days=st.integers(1, 10),
    step_days=st.integers(1, 5),
)
def test_fit_and_held_out_windows_share_no_label_time(n_windows, folds, days, step_days):
    periods = _periods(n_windows, days, step_days)
    plan, unpurged = cross_fit_folds(n_windows, folds, periods), cross_fit_folds(n_windows, folds)
    assert plan and all(fit_on and not set(fit_on) & set(held) for held, fit_on in plan)
    if plan == unpurged and days > step_days:
        # the fallback: no group has a window whose labels are disjoint from all of its own
        for held, others in unpurged:
            assert all(any(_overlap(periods[j], periods[k]) for k in held) for j in others)
    else:
        for held, fit_on in plan:
            assert not any(_overlap(periods[j], periods[k]) for j in fit_on for k in held)


def test_two_day_horizon_drops_the_neighbouring_windows():
    plan = cross_fit_folds(6, 3, _periods(6, days=2, step_days=1))
    assert plan == [([0, 1], [3, 4, 5]), ([2, 3], [0, 5]), ([4, 5], [0, 1, 2])]
    assert cross_fit_folds(6, 3, _periods(6, days=1, step_days=1)) == cross_fit_folds(6, 3)


def test_fold_boosters_are_fitted_only_on_disjoint_windows(monkeypatch):
    rng = np.random.default_rng(0)
    windows = []
    for k in range(6):
        x = pd.DataFrame({"window": np.full(200, float(k)), "a": rng.normal(size=200)})
        windows.append((x, rng.random(200) < 0.3))
    fitted_on = []
    train = CalibratedBooster._train

    def recording_train(self, chosen):
        fitted_on.append(sorted(int(x["window"].iloc[0]) for x, _ in chosen))
        return train(self, chosen)

    monkeypatch.setattr(CalibratedBooster, "_train", recording_train)
    CalibratedBooster(n_estimators=5, min_child_samples=20).fit(
        windows, _periods(6, days=2, step_days=1)
    )
    assert fitted_on == [[3, 4, 5], [0, 5], [0, 1, 2], [0, 1, 2, 3, 4, 5]]
