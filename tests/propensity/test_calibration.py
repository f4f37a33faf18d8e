"""Metrics against hand-computed values, calibration on data with known probabilities, and the
model's save/load round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from tailor.errors import InvalidInputError
from tailor.propensity.metrics import bootstrap_ci, ece, reliability, scores
from tailor.propensity.model import CalibratedBooster
from tailor.propensity.plot import reliability_svg, save_reliability


def test_ece_and_reliability_by_hand():
    y = np.array([0, 0, 1, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.95, 0.55, 0.55, 0.55])
    bins = reliability(y, p)
    assert [(b.count, b.mean_predicted, b.observed_rate) for b in bins] == [
        (2, 0.05, 0.0),
        (3, 0.55, pytest.approx(2 / 3)),
        (1, 0.95, 1.0),
    ]
    expected = (2 * 0.05 + 3 * abs(2 / 3 - 0.55) + 1 * 0.05) / 6
    assert ece(y, p) == pytest.approx(expected)
    assert scores(y, p)["brier"] == pytest.approx(np.mean((p - y) ** 2))


def test_bootstrap_interval_brackets_the_estimate():
    rng = np.random.default_rng(0)
    p = rng.random(400)
    y = (rng.random(400) < p).astype(float)
    low, high = bootstrap_ci(roc_auc_score, y, p, resamples=300)
    assert low < roc_auc_score(y, p) < high and high - low < 0.2


def _windows(rng, n_windows=4, rows=3000):
    """Two informative features; the true probability is a known logistic function of them."""
    windows, truths = [], []
    for _ in range(n_windows):
        x = pd.DataFrame(
            {
                "a": rng.normal(size=rows),
                "b": rng.exponential(size=rows),
                "noise": rng.normal(size=rows),
            }
        )
        truth = 1 / (1 + np.exp(-(1.5 * x["a"] - x["b"] - 0.5)))
        windows.append((x, (rng.random(rows) < truth).to_numpy()))
        truths.append(truth.to_numpy())
    return windows, truths


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_calibrated_probabilities_match_known_probabilities(method, tmp_path):
    rng = np.random.default_rng(1)
    windows, _ = _windows(rng)
    model = CalibratedBooster(
        n_estimators=80, num_leaves=4, min_child_samples=50, learning_rate=0.05, calibration=method
    ).fit(windows)
    tests, truths = _windows(np.random.default_rng(2), 1)
    (test_x, test_y), truth = tests[0], truths[0]
    p = model.predict(test_x)
    assert np.abs(p - truth).mean() < 0.05
    assert ece(test_y, p) < 0.03
    assert roc_auc_score(test_y, p) > roc_auc_score(test_y, truth) - 0.02
    model.save(tmp_path, "m")
    again = CalibratedBooster.load(tmp_path, "m")
    np.testing.assert_allclose(again.predict(test_x), p)
    assert not list(tmp_path.glob("*.pkl"))


def test_isotonic_calibration_keeps_the_boosters_ranking_between_its_steps():
    windows, _ = _windows(np.random.default_rng(1))
    model = CalibratedBooster(n_estimators=80, num_leaves=4, min_child_samples=50).fit(windows)
    ((test_x, _),) = _windows(np.random.default_rng(2), 1)[0]
    raw, p = model.raw(test_x), model.predict(test_x)
    inside = (raw > model.calibrator_["x"][0]) & (raw < model.calibrator_["x"][-1])
    assert inside.mean() > 0.9
    assert len(np.unique(p[inside])) == len(np.unique(raw[inside]))  # a plain step fit ties them
    order = np.argsort(raw[inside])
    assert np.all(np.diff(p[inside][order]) >= 0)


def test_reliability_svg_is_well_formed(tmp_path):
    import xml.etree.ElementTree as ET

    bins = reliability(np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.7, 0.3]))
    root = ET.fromstring(reliability_svg(bins, "test <&>"))
    assert root.tag.endswith("svg") and len(root.findall("{http://www.w3.org/2000/svg}circle")) == 4
    save_reliability(bins, "t", tmp_path / "r.svg")
    assert (tmp_path / "r.svg").read_text(encoding="utf-8").startswith("<svg")
    with pytest.raises(InvalidInputError) as err:
        save_reliability(bins, "t", tmp_path / "r.png")
    assert err.value.field == "plot"
