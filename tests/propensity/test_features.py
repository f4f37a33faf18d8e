"""Features and repurchase timing on hand-made histories with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.propensity.features import before, prepare_events, user_features
from tailor.propensity.repurchase import category_intervals, timing
from tailor.settings import load_settings

DAY = 86_400_000
T0 = 1_767_225_600_000
ITEMS = pd.DataFrame(
    {"item_id": ["soap", "tv"], "category": ["清洁 Cleaning", "数码 TV"], "price": [10.0, 3000.0]}
)


def _events(rows):
    return pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts", "value"])


def test_user_features_by_hand():
    events = prepare_events(
        _events(
            [
                ("u", "soap", "view", T0, None),
                ("u", "soap", "cart", T0 + 1000, None),
                ("u", "soap", "purchase", T0 + 2000, 3),
                ("u", "tv", "view", T0 + 5 * DAY, None),
                ("u", "tv", "cart", T0 + 5 * DAY + 1000, None),
                ("u", "tv", "view", T0 + 20 * DAY, None),  # after the cutoff: unseen
            ]
        ),
        ITEMS,
    )
    cutoff = T0 + 6 * DAY + 10_000
    row = user_features(before(events, cutoff), load_settings(store_url="sqlite://").profiles).loc[
        "u"
    ]
    assert row["n_view_1d"] == 0 and row["n_view_3d"] == 1 and row["n_view_7d"] == 2
    assert row["n_purchase_7d"] == 1 and row["n_cart_30d"] == 2
    assert row["days_since_last_purchase"] == pytest.approx((cutoff - T0 - 2000) / DAY)
    assert row["days_since_last_event"] == pytest.approx((cutoff - T0 - 5 * DAY - 1000) / DAY)
    assert row["monetary"] == 30.0
    assert row["open_carts_7d"] == 1  # the tv cart; the soap cart was bought
    assert row["active_days_7d"] == 2 and row["distinct_categories_7d"] == 2
    assert np.isnan(row["mean_purchase_interval_days"])
    assert row["rfm_segment"] == 3  # promising: one recent purchase


def test_repurchase_intervals_and_expected_days():
    rows = []
    for u in range(5):  # five users buy soap every 10 days, one of them every 8
        gap = 8 if u == 0 else 10
        rows += [(f"u{u}", "soap", "purchase", T0 + k * gap * DAY, 1) for k in range(3)]
    rows += [("solo", "soap", "purchase", T0, 1), ("u1", "tv", "purchase", T0, 1)]
    events = prepare_events(_events(rows), ITEMS)
    intervals = category_intervals(events, min_users=5)
    assert intervals == {"清洁 Cleaning": 10.0}  # the tv was bought once: not a consumable
    assert category_intervals(events, min_users=6) == {}
    now = T0 + 20 * DAY
    own = timing(events[events["user_id"] == "u0"], "清洁 Cleaning", intervals, now)
    assert (
        own.source,
        own.interval_days,
        own.days_since_last_purchase,
        own.expected_days_to_next,
    ) == ("user", 8.0, 4.0, 4.0)
    solo = timing(events[events["user_id"] == "solo"], "清洁 Cleaning", intervals, T0 + 3 * DAY)
    assert (solo.source, solo.expected_days_to_next) == ("category", 7.0)
    assert timing(events[events["user_id"] == "u1"], "数码 TV", intervals, now) is None
