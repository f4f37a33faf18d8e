"""Time-split evaluation: models trained on windows before the test cutoff, scored on the users
(and pairs) as of the cutoff against purchases in the N days after it.

The test cutoff is the end of the data minus N days. The baseline is a logistic regression on
recency and frequency (days since the last event and purchase, event and purchase counts, log
scaled), trained on the same windows as the booster plus its calibration window.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tailor.propensity.features import DAY_MS, pair_matrix, prepare_events
from tailor.propensity.metrics import bootstrap_ci, paired_auc_difference_ci, reliability, scores
from tailor.propensity.training import (
    cutoffs,
    fit_horizon,
    intervals_before,
    pair_rows,
    user_rows,
)
from tailor.settings import Settings

BASELINE_FEATURES = (
    "days_since_last_event",
    "days_since_last_purchase",
    "n_view_30d",
    "n_purchase_30d",
)
NEVER_DAYS = 365.0


@dataclass
class PropensityEvaluation:
    days: int
    test_cutoff: int
    y: np.ndarray
    p: np.ndarray
    baseline_p: np.ndarray
    pair_y: np.ndarray
    pair_p: np.ndarray
    pair_level: np.ndarray
    protocol: dict = field(default_factory=dict)

    def rows(self, resamples: int = 1000, seed: int = 0) -> list[dict]:
        """user-level metrics with bootstrap CIs, the baseline's, and the pair levels'."""
        from sklearn.metrics import roc_auc_score

        model, baseline = scores(self.y, self.p), scores(self.y, self.baseline_p)
        low, high = bootstrap_ci(roc_auc_score, self.y, self.p, resamples=resamples, seed=seed)
        b_low, b_high = bootstrap_ci(
            roc_auc_score, self.y, self.baseline_p, resamples=resamples, seed=seed
        )
        d_low, d_high = paired_auc_difference_ci(
            self.y, self.p, self.baseline_p, resamples=resamples, seed=seed
        )
        rows = [
            {
                "target": "user buys anything",
                "n": len(self.y),
                **model,
                "auc_ci_low": low,
                "auc_ci_high": high,
                "baseline_auc": baseline["auc"],
                "baseline_auc_ci_low": b_low,
                "baseline_auc_ci_high": b_high,
                "baseline_ece": baseline["ece"],
                "baseline_log_loss": baseline["log_loss"],
                "auc_gain_ci_low": d_low,
                "auc_gain_ci_high": d_high,
            }
        ]
        for level, name in ((0, "user buys item"), (1, "user buys in category")):
            mask = self.pair_level == level
            if mask.any() and 0 < self.pair_y[mask].mean() < 1:
                rows.append(
                    {
                        "target": name,
                        "n": int(mask.sum()),
                        **scores(self.pair_y[mask], self.pair_p[mask]),
                    }
                )
        return rows

    def reliability(self) -> list:
        return reliability(self.y, self.p)


def _baseline_matrix(features: pd.DataFrame) -> np.ndarray:
    columns = features.reindex(columns=list(BASELINE_FEATURES)).fillna(NEVER_DAYS)
    return np.log1p(columns.to_numpy(np.float64))


def evaluate_propensity(
    events: pd.DataFrame, items: pd.DataFrame, settings: Settings, days: int
) -> PropensityEvaluation:
    """Fit on windows before the test cutoff and score the test window (see the module doc)."""
    from sklearn.linear_model import LogisticRegression

    frame = prepare_events(events, items)
    test_cutoff = int(frame["ts"].max()) + 1 - days * DAY_MS
    intervals = intervals_before(frame, test_cutoff, settings)
    models = fit_horizon(frame, test_cutoff, days, settings, intervals)
    test_x, test_y = user_rows(frame, test_cutoff, days, settings)
    train = [user_rows(frame, c, days, settings) for c in cutoffs(test_cutoff, days, settings)]
    baseline = LogisticRegression(max_iter=1000).fit(
        np.vstack([_baseline_matrix(x) for x, _ in train]), np.concatenate([y for _, y in train])
    )
    pairs = pair_rows(frame, test_cutoff, days, settings, intervals, np.random.default_rng(1))
    return PropensityEvaluation(
        days=days,
        test_cutoff=test_cutoff,
        y=test_y.astype(np.float64),
        p=models.user.predict(test_x),
        baseline_p=baseline.predict_proba(_baseline_matrix(test_x))[:, 1],
        pair_y=pairs["label"].to_numpy(np.float64),
        pair_p=models.pair.predict(pair_matrix(pairs)),
        pair_level=pairs["level"].to_numpy(),
        protocol={
            "split": f"time: features before the test cutoff, label = a purchase in the {days} days after",
            "test_cutoff_ms": test_cutoff,
            "train_windows": settings.propensity.windows - 1,
            "calibration": f"{settings.propensity.calibration}, cross-fitted over the windows "
            "(purged of windows sharing label time)",
            "step_days": settings.propensity.step_days,
            "baseline": "logistic regression on log recency/frequency",
        },
    )
