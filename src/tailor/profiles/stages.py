"""Lifecycle stages and RFM segments: rules over days and counts, vectorised with numpy so profiles
(one user) and purchase prediction (every user) apply the very same thresholds. Labels in zh and en.
"""

from __future__ import annotations

import numpy as np

from tailor.settings import ProfileSettings

STAGES: tuple[str, ...] = ("new", "active", "at_risk", "churned")
SEGMENTS: tuple[str, ...] = (
    "prospect",
    "champion",
    "loyal",
    "promising",
    "needs_attention",
    "hibernating",
)
PRICE_BANDS: tuple[str, ...] = ("budget", "mid_range", "premium")

LABELS: dict[str, dict[str, str]] = {
    "new": {"zh": "新用户", "en": "new"},
    "active": {"zh": "活跃", "en": "active"},
    "at_risk": {"zh": "流失风险", "en": "at risk"},
    "churned": {"zh": "已流失", "en": "churned"},
    "prospect": {"zh": "潜在客户（未购买）", "en": "prospect (no purchase yet)"},
    "champion": {"zh": "核心客户", "en": "champion"},
    "loyal": {"zh": "忠诚客户", "en": "loyal"},
    "promising": {"zh": "潜力客户", "en": "promising"},
    "needs_attention": {"zh": "需要关注", "en": "needs attention"},
    "hibernating": {"zh": "沉睡客户", "en": "hibernating"},
    "budget": {"zh": "实惠", "en": "budget"},
    "mid_range": {"zh": "中档", "en": "mid-range"},
    "premium": {"zh": "高端", "en": "premium"},
}


def label(code: str, lang: str) -> str:
    return LABELS[code]["zh" if lang == "zh" else "en"]


def lifecycle_stage(
    days_since_first: np.ndarray, days_since_last: np.ndarray, settings: ProfileSettings
) -> np.ndarray:
    """Index into STAGES per user; NaN days (no events) count as new."""
    first = np.asarray(days_since_first, dtype=np.float64)
    last = np.asarray(days_since_last, dtype=np.float64)
    return np.select(
        [
            np.isnan(first) | (first <= settings.new_days),
            last <= settings.active_days,
            last <= settings.churn_days,
        ],
        [0, 1, 2],
        default=3,
    )


def rfm_segment(
    purchase_recency_days: np.ndarray, frequency: np.ndarray, settings: ProfileSettings
) -> np.ndarray:
    """Index into SEGMENTS per user from days since the last purchase (NaN: never) and purchases."""
    recency = np.asarray(purchase_recency_days, dtype=np.float64)
    orders = np.asarray(frequency, dtype=np.float64)
    recent = recency <= settings.active_days
    loyal = orders >= settings.loyal_orders
    return np.select(
        [orders <= 0, recency > settings.churn_days, recent & loyal, loyal, recent],
        [0, 5, 1, 2, 3],
        default=4,
    )


def price_band(relative_median: float) -> str:
    """Where a user's median relative price falls: lower, middle or upper third of the category."""
    return PRICE_BANDS[min(int(relative_median * 3), 2)]
