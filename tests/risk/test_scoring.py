"""Planted attackers are caught with bilingual reasons; honest shoppers mostly are not."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tailor.ingest.synthetic import generate_shop
from tailor.risk.attacks import BOT, FAKE_ORDER, inject_attacks
from tailor.risk.features import behaviour_features
from tailor.risk.scoring import score_users
from tailor.settings import RiskSettings

CJK = re.compile(r"[\u4e00-\u9fff]")
EXPECTED_CODES = {
    BOT: {"regular_timing"},  # the slower bots stay under the click-rate limit
    FAKE_ORDER: {"purchase_without_browsing", "collusive_ring"},
}


def test_every_planted_attacker_is_flagged_for_its_kind_of_attack(attacked, scores):
    for user_id, kind in attacked.labels.items():
        score = scores[user_id]
        assert score.flagged and score.score >= RiskSettings().min_score, (user_id, score)
        assert EXPECTED_CODES[kind] <= {r.code for r in score.reasons}, (user_id, score.reasons)


def test_honest_shoppers_are_rarely_flagged(attacked, scores):
    honest = [s for user_id, s in scores.items() if user_id not in attacked.labels]
    false_positive_rate = np.mean([s.flagged for s in honest])
    assert len(honest) > 200 and false_positive_rate <= 0.02


def test_scores_are_in_unit_range_and_ranked(attacked):
    ranked = score_users(attacked.events, attacked.users, RiskSettings())
    values = [s.score for s in ranked]
    assert values == sorted(values, reverse=True) and 0.0 <= values[-1] and values[0] <= 1.0
    assert ranked[0].user_id in attacked.labels


def test_reasons_are_in_chinese_and_english(attacked, scores):
    reasons = [r for user_id in attacked.labels for r in scores[user_id].reasons]
    assert reasons
    for reason in reasons:
        assert CJK.search(reason.zh), reason
        assert reason.en.isascii() and not CJK.search(reason.en), reason
        assert 0 < reason.weight <= 1


def _events(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts"])


def test_features_measured_by_hand():
    minute = 60_000
    rows = [("timer", "a", "view", t * 1_000) for t in range(0, 300, 10)]  # every 10 s
    rows += [
        ("ring1", "x", "purchase", 0),
        ("ring2", "x", "purchase", 5 * minute),
        ("ring2", "x", "purchase", 6 * minute),
    ]
    rows += [
        ("shopper", "x", "view", 0),
        ("shopper", "x", "purchase", minute),
        ("shopper", "y", "purchase", 2 * minute),
    ]
    users = pd.DataFrame({"user_id": ["ring1"], "created_at": [-86_400_000 // 2]})
    f = behaviour_features(_events(rows), users)
    assert f.loc["timer", "interval_cv"] == pytest.approx(0.0)
    assert f.loc["timer", "peak_events_per_minute"] == 6
    assert f.loc["ring2", "blind_purchase_share"] == 1.0
    assert f.loc["shopper", "blind_purchase_share"] == 0.5
    assert f.loc["ring1", "ring_partners"] == 1 and f.loc["ring2", "ring_partners"] == 1
    assert f.loc["shopper", "ring_partners"] == 0  # it browsed x before buying it
    assert f.loc["ring1", "account_age_days_at_first_purchase"] == pytest.approx(0.5)
    assert f.loc["ring2", "purchase_burst"] == 2 and f.loc["ring2", "top_item_purchase_share"] == 1
    # Without a users row an account is as old as its first event: ring2 and shopper are new too.
    assert f.loc["ring1", "new_account_co_buyers"] == 2


def test_new_accounts_buying_one_item_together_are_counted():
    day = 86_400_000
    rows = [(f"fresh{i}", "x", "purchase", day + i) for i in range(4)]
    rows += [("fresh4", "x", "purchase", 3 * day), ("old", "x", "purchase", day)]
    users = pd.DataFrame(
        {
            "user_id": ["fresh0", "fresh1", "fresh2", "fresh3", "fresh4", "old"],
            "created_at": [day - 1000] * 4 + [3 * day - 1000, 0],
        }
    )
    f = behaviour_features(_events(rows), users)
    assert list(f.loc[[f"fresh{i}" for i in range(4)], "new_account_co_buyers"]) == [3] * 4
    assert f.loc["fresh4", "new_account_co_buyers"] == 0  # another day
    assert f.loc["old", "new_account_co_buyers"] == 0  # not a new account


def test_a_stealthy_ring_that_browses_first_is_still_caught(attacked):

    shop = generate_shop(300, 60, days=20, seed=5)
    stealthy = inject_attacks(
        shop.events, shop.users, attacked.target_item, n_bots=4, n_ring=6, seed=5, stealth=True
    )
    scores = {s.user_id: s for s in score_users(stealthy.events, stealthy.users, RiskSettings())}
    for user_id, kind in stealthy.labels.items():
        assert scores[user_id].flagged, (user_id, scores[user_id])
        if kind == FAKE_ORDER:
            assert "new_accounts_on_one_item" in {r.code for r in scores[user_id].reasons}


def test_a_stricter_threshold_flags_fewer_users(attacked):
    loose = score_users(attacked.events, attacked.users, RiskSettings(min_score=0.2))
    strict = score_users(attacked.events, attacked.users, RiskSettings(min_score=0.9))
    assert sum(s.flagged for s in strict) < sum(s.flagged for s in loose)
