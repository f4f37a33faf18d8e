"""The planner never breaks a frequency cap or the quiet hours (hypothesis), and the segment
expressions and the push report on hand-made data."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tailor.errors import InvalidInputError
from tailor.push.plan import DAY_MS, WEEK_MS, Candidate, PushRules, is_quiet, plan_user
from tailor.push.report import push_report
from tailor.push.segments import select

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata"]


@settings(max_examples=300, deadline=None)
@given(
    now=st.integers(T0, T0 + 400 * DAY_MS),
    log_offsets=st.lists(st.integers(-8 * DAY_MS, 3 * DAY_MS), max_size=12),
    hours=st.lists(st.integers(0, 23), max_size=3, unique=True),
    zone=st.sampled_from(ZONES),
    quiet_start=st.integers(0, 23),
    quiet_end=st.integers(0, 23),
    per_day=st.integers(0, 3),
    per_week=st.integers(0, 6),
    k=st.integers(1, 4),
)
def test_a_plan_keeps_the_caps_and_the_quiet_hours(
    now, log_offsets, hours, zone, quiet_start, quiet_end, per_day, per_week, k
):
    rules = PushRules(
        k=k, per_day=per_day, per_week=per_week, quiet_start=quiet_start, quiet_end=quiet_end
    )
    log = sorted(now + o for o in log_offsets)
    items = [Candidate(f"i{j}", 0.1 * j, "viewed") for j in range(5)]
    planned = plan_user("u", 0.5, hours, zone, items, log, {"i4"}, rules, now)
    if planned is None:
        return
    at = planned.send_at
    assert at >= now - 1000
    local = datetime.fromtimestamp(at / 1000, ZoneInfo(zone))
    assert not is_quiet(local.hour, rules), (local, rules)
    assert len(planned.items) <= k and "i4" not in [c.item_id for c in planned.items]
    everything = sorted(log + [at])
    for t in everything:  # every 24-hour and 7-day window that holds the new push fits the caps
        if t - DAY_MS < at <= t:
            assert sum(t - DAY_MS < s <= t for s in everything) <= per_day
        if t - WEEK_MS < at <= t:
            assert sum(t - WEEK_MS < s <= t for s in everything) <= per_week


def test_send_time_prefers_the_next_preferred_hour_outside_quiet_hours():
    rules = PushRules(k=1, per_day=1, per_week=1, quiet_start=22, quiet_end=8)
    now = T0 + 10 * 3_600_000  # 10:00 UTC = 18:00 in Shanghai
    item = [Candidate("i1", 0.5, "viewed")]
    planned = plan_user("u", 0.5, [23, 20, 9], "Asia/Shanghai", item, [], set(), rules, now)
    assert planned.local_time == "2026-01-01T20:00+08:00"  # 23 is quiet; 20 comes before 9
    quiet_only = plan_user("u", 0.5, [23, 2], "Asia/Shanghai", item, [], set(), rules, now)
    assert quiet_only.local_time == "2026-01-02T08:00+08:00"
    assert plan_user("u", 0.5, [20], "UTC", item, [now - 3_600_000], set(), rules, now) is None
    assert (
        plan_user(
            "u",
            0.01,
            [20],
            "UTC",
            item,
            [],
            set(),
            PushRules(1, 1, 1, 22, 8, min_probability=0.1),
            now,
        )
        is None
    )


def test_segments_pick_the_right_users_and_name_bad_fields():
    users = pd.DataFrame(
        {
            "stage": ["active", "at_risk", "churned"],
            "segment": ["champion", "loyal", "prospect"],
            "channel": ["app", "web", "app"],
            "probability": [0.5, 0.2, 0.01],
            "recency_days": [1.0, 40.0, np.nan],
            "last_seen_days": [0.5, 35.0, 100.0],
            "frequency": [4.0, 3.0, 0.0],
            "monetary": [500.0, 90.0, 0.0],
            "events_30d": [30.0, 2.0, 0.0],
        }
    )
    assert select(users, "stage in (active, at_risk) and probability >= 0.2").tolist() == [
        True,
        True,
        False,
    ]
    assert select(users, "channel = app AND segment != prospect").tolist() == [True, False, False]
    assert select(users, "monetary > 100").tolist() == [True, False, False]
    for bad, words in [
        ("age > 3", "unknown field 'age'"),
        ("stage > active", "is text"),
        ("probability >= high", "is a number"),
        ("stage in active", "parentheses"),
        ("stage", "cannot read"),
    ]:
        with pytest.raises(InvalidInputError) as err:
            select(users, bad)
        assert err.value.field == "segment" and words in err.value.message


def test_push_report_by_hand():
    rows = [
        ("u1", "i1", "push_sent", T0, "app"),
        ("u1", "i2", "push_sent", T0, "app"),
        ("u2", "i1", "push_sent", T0, "app"),
        ("u3", "i1", "push_sent", T0, "sms"),
        ("u1", "i1", "push_opened", T0 + 60_000, "app"),
        ("u1", "i1", "push_clicked", T0 + 90_000, "app"),
        ("u1", "i1", "purchase", T0 + DAY_MS, "app"),  # within 3 days: counts
        ("u2", "i1", "purchase", T0 + 5 * DAY_MS, "web"),  # too late
        ("u3", "i9", "purchase", T0 + 1000, "web"),  # not the pushed item
    ]
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts", "channel"])
    report = {r["channel"]: r for r in push_report(events, attribution_days=3)}
    assert report["app"] == {
        "channel": "app",
        "pushes": 2,
        "items_pushed": 3,
        "delivered": 0,
        "opened": 1,
        "clicked": 1,
        "purchased_items": 1,
        "open_rate": 0.5,
        "click_rate": 0.5,
        "purchase_rate_per_item": round(1 / 3, 4),
    }
    assert report["sms"]["pushes"] == 1 and report["sms"]["purchased_items"] == 0
