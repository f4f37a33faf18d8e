import numpy as np
import pandas as pd
import pytest

from tailor.ingest.shop_calendar import WEEKDAY_VOLUME, PromotionPlan, draw_session_days
from tailor.ingest.synthetic import generate_shop


@pytest.fixture(scope="module")
def shop():
    return generate_shop(1500, 300, days=56, seed=11)


def test_sessions_follow_the_planted_weekly_rhythm(shop):
    views = shop.events[shop.events["kind"] == "view"]
    weekday = pd.to_datetime(views["ts"], unit="ms").dt.day_of_week
    share = weekday.value_counts(normalize=True).sort_index().to_numpy() * 7
    np.testing.assert_allclose(share, shop.truth.weekday_volume, atol=0.12)
    assert shop.truth.weekday_volume[5] > 1.5 * shop.truth.weekday_volume[1]


def test_session_days_stay_in_the_users_window():
    rng = np.random.default_rng(0)
    first = rng.integers(0, 30, 10_000)
    day = draw_session_days(rng.random(10_000), first, 0, 30)
    assert (day >= first).all() and (day < 30).all()


def test_promotions_raise_conversion_of_their_category(shop):
    promotions, events = shop.truth.promotions, shop.events
    assert len(promotions) > 10 and (promotions["conversion_lift"] > 1).all()
    category = events["item_id"].map(dict(zip(shop.items["item_id"], shop.items["category"])))
    on_promotion = np.zeros(len(events), dtype=bool)
    for p in promotions.itertuples():
        on_promotion |= (category == p.category) & events["ts"].between(p.start, p.end - 1)
    in_session = events["session_id"].notna() & (events["kind"].isin(["view", "cart"]))
    kind = events["kind"][in_session]
    promoted = on_promotion[in_session.to_numpy()]
    rate = [(kind[m] == "cart").sum() / (kind[m] == "view").sum() for m in (promoted, ~promoted)]
    assert rate[0] > 1.3 * rate[1]


def test_promotion_windows_lie_in_the_window_and_are_seeded():
    a, b = PromotionPlan.draw(3, 24, 60), PromotionPlan.draw(3, 24, 60)
    np.testing.assert_array_equal(a.first_day, b.first_day)
    assert ((a.first_day + a.n_days) <= 60).all() and (a.discount > 0).all()
    lift = a.lift_by_leaf_and_day(24, 60)
    assert lift.shape == (24, 60) and (lift >= 1).all()
    assert (lift > 1).sum() <= a.n_days.sum()
    assert WEEKDAY_VOLUME.mean() == pytest.approx(1.0)
