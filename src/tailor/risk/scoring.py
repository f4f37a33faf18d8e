"""Risk scores: rules with bilingual reasons plus an isolation forest, combined into 0..1.

Each fired rule contributes its weight w and the isolation forest at most `isolation_weight`;
the score is 1 - prod(1 - w), so independent signals add up without passing 1, and one strong
rule alone can flag a user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tailor.risk.features import FEATURES, behaviour_features
from tailor.settings import RiskSettings

# An isolation-forest decision value this far below 0 counts as fully anomalous.
ISOLATION_SCALE = 0.15


@dataclass(frozen=True)
class Reason:
    code: str
    weight: float
    zh: str
    en: str


@dataclass(frozen=True)
class RiskScore:
    user_id: str
    score: float
    flagged: bool
    reasons: list[Reason]
    features: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Rule:
    code: str
    weight: float
    fires: Callable[[pd.Series, RiskSettings], bool]
    zh: str
    en: str


RULES: tuple[_Rule, ...] = (
    _Rule(
        "inhuman_click_rate",
        0.6,
        lambda f, s: f.peak_events_per_minute >= s.max_events_per_minute,
        "一分钟内 {peak_events_per_minute:.0f} 次操作，超出人类点击速度",
        "{peak_events_per_minute:.0f} events in one minute, faster than a person clicks",
    ),
    _Rule(
        "regular_timing",
        0.5,
        lambda f, s: f.n_events >= s.regular_min_events and f.interval_cv <= s.max_regular_cv,
        "操作间隔过于规律（变异系数 {interval_cv:.2f}），像定时程序",
        "events at machine-regular intervals (coefficient of variation {interval_cv:.2f})",
    ),
    _Rule(
        "purchase_without_browsing",
        0.4,
        lambda f, s: f.purchases >= 1 and f.blind_purchase_share >= s.blind_purchase_share,
        "{blind_purchase_share:.0%} 的购买事先没有浏览过该商品",
        "{blind_purchase_share:.0%} of purchases were of items never browsed first",
    ),
    _Rule(
        "purchase_burst",
        0.4,
        lambda f, s: f.purchase_burst >= s.burst_purchases,
        "短时间内集中下单 {purchase_burst:.0f} 次",
        "{purchase_burst:.0f} purchases in one short burst",
    ),
    _Rule(
        "new_account_single_item",
        0.3,
        lambda f, s: (
            f.purchases >= 2  # one first order on sign-up day is ordinary; repeats are not
            and f.account_age_days_at_first_purchase < s.new_account_days
            and f.top_item_purchase_share >= s.single_item_share
        ),
        "新注册 {account_age_days_at_first_purchase:.1f} 天即下单，且 "
        "{top_item_purchase_share:.0%} 的购买集中在同一商品",
        "first purchase {account_age_days_at_first_purchase:.1f} days after sign-up, "
        "{top_item_purchase_share:.0%} of purchases on one item",
    ),
    _Rule(
        "collusive_ring",
        0.5,
        lambda f, s: f.ring_partners >= s.ring_partners,
        "与 {ring_partners:.0f} 个账号未经浏览购买相同商品，疑似刷单团伙",
        "bought the same unbrowsed items as {ring_partners:.0f} other accounts (a possible ring)",
    ),
    _Rule(
        "new_accounts_on_one_item",
        0.5,
        lambda f, s: f.new_account_co_buyers >= s.ring_partners,
        "新账号，与另外 {new_account_co_buyers:.0f} 个新账号同一天购买同一商品",
        "a new account that bought an item on the same day as {new_account_co_buyers:.0f} "
        "other new accounts",
    ),
    _Rule(
        "coupon_farming",
        0.5,
        lambda f, s: f.new_account_coupon_peers >= s.ring_partners,
        "新账号，与另外 {new_account_coupon_peers:.0f} 个新账号同一天在同一商品上使用优惠券，疑似批量薅羊毛",
        "a new account that redeemed a coupon on an item on the same day as "
        "{new_account_coupon_peers:.0f} other new accounts (a possible coupon farm)",
    ),
    _Rule(
        "coupon_hoarding",
        0.5,
        lambda f, s: f.coupon_week_peak >= s.max_coupons_per_week,
        "一周内使用 {coupon_week_peak:.0f} 张优惠券，远超正常用量",
        "{coupon_week_peak:.0f} coupons redeemed within one week, far above normal use",
    ),
)

ISOLATION_REASON = (
    "整体行为与绝大多数用户不同（孤立森林异常度 {:.2f}）",
    "behaviour unlike most users' (isolation-forest anomaly {:.2f})",
)


def score_users(
    events: pd.DataFrame, users: pd.DataFrame | None, settings: RiskSettings
) -> list[RiskScore]:
    """A risk score for every user with events, highest first (ties by user id)."""
    features = behaviour_features(
        events,
        users,
        burst_minutes=settings.burst_minutes,
        new_account_days=settings.new_account_days,
    )
    if not len(features):
        return []
    anomaly = isolation_anomaly(features, settings)
    scores = [
        _score_one(str(user_id), row, float(anomaly[i]), settings)
        for i, (user_id, row) in enumerate(features.iterrows())
    ]
    return sorted(scores, key=lambda s: (-s.score, s.user_id))


def isolation_anomaly(features: pd.DataFrame, settings: RiskSettings) -> np.ndarray:
    """0 (typical) .. 1 (clearly isolated) per row, from an isolation forest on the features."""
    from sklearn.ensemble import IsolationForest

    matrix = _model_inputs(features)
    if len(matrix) < 10:  # too few users to tell what typical is
        return np.zeros(len(matrix))
    forest = IsolationForest(
        n_estimators=settings.n_estimators, random_state=settings.random_state
    ).fit(matrix)
    return np.clip(-forest.decision_function(matrix) / ISOLATION_SCALE, 0.0, 1.0)


def _model_inputs(features: pd.DataFrame) -> np.ndarray:
    frame = features.loc[:, list(FEATURES)].copy()
    frame["interval_cv"] = frame["interval_cv"].fillna(frame["interval_cv"].median()).fillna(1.0)
    heavy = [
        "n_events",
        "peak_events_per_minute",
        "purchases",
        "purchase_burst",
        "account_age_days_at_first_purchase",
        "ring_partners",
        "new_account_co_buyers",
        "coupon_week_peak",
        "new_account_coupon_peers",
    ]
    frame[heavy] = np.log1p(frame[heavy])
    return frame.to_numpy(dtype=np.float64)


def _score_one(user_id: str, row: pd.Series, anomaly: float, settings: RiskSettings) -> RiskScore:
    values = {name: float(row[name]) for name in FEATURES}
    reasons = [
        Reason(rule.code, rule.weight, rule.zh.format(**values), rule.en.format(**values))
        for rule in RULES
        if rule.fires(row, settings)
    ]
    isolation = round(settings.isolation_weight * anomaly, 4)
    if isolation > 0:
        zh, en = ISOLATION_REASON
        reasons.append(
            Reason("isolation_forest", isolation, zh.format(anomaly), en.format(anomaly))
        )
    score = 1.0 - float(np.prod([1.0 - r.weight for r in reasons]))
    reasons.sort(key=lambda r: -r.weight)
    return RiskScore(
        user_id=user_id,
        score=round(score, 4),
        flagged=score >= settings.min_score,
        reasons=reasons,
        features={k: (None if np.isnan(v) else round(v, 4)) for k, v in values.items()},
    )
