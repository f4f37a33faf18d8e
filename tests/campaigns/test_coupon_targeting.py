"""GET /v1/items/{id}/audience and POST /v1/campaigns/coupon over a shop whose coupon effect is
planted: trained on the days before a cutoff, scored against the planted profit after it."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from tailor.campaigns.coupons import CouponCampaign, choose, with_coupon
from tailor.campaigns.elasticity import fit_price_sensitivity
from tailor.campaigns.planted import planted_coupon_profit, targeting_outcome
from tailor.campaigns.prices import price_positions, resolve_target
from tailor.engine import Engine
from tailor.errors import InvalidInputError
from tailor.ingest.demo import demo_shop
from tailor.ingest.synthetic import DAY_MS, generate_shop
from tailor.privacy import erase_user
from tailor.propensity.service import train_propensity
from tailor.service import create_app
from tailor.settings import load_settings

SHOP_DAYS, HORIZON = 31, 7
ZH_ITEM, ZH_CATEGORY, ZH_USER = "连衣裙-夏季", "女装/连衣裙", "用户甲"


def _chinese_corner(at: int) -> tuple[list[dict], list[dict]]:
    """Two priced dresses in a Chinese category, and a user who keeps carting the cheaper."""
    items = [
        {"item_id": ZH_ITEM, "title": "夏季连衣裙", "category": ZH_CATEGORY, "price": 199.0},
        {"item_id": "连衣裙-冬季", "title": "冬季连衣裙", "category": ZH_CATEGORY, "price": 399.0},
    ]
    events = [
        {
            "event_id": f"zh-{day}-{kind}",
            "user_id": ZH_USER,
            "item_id": ZH_ITEM,
            "kind": kind,
            "ts": at - day * DAY_MS - (0 if kind == "view" else 60_000),
        }
        for day in range(1, 8)
        for kind in ("view", "cart")
    ]
    return items, events


@pytest.fixture(scope="module")
def shop_before_cutoff(tmp_path_factory):
    folder = tmp_path_factory.mktemp("campaigns")
    settings = load_settings(
        store_url=f"sqlite:///{folder}/t.db",
        artifacts_dir=folder / "artifacts",
        service={"auth": False},
        propensity={"days": [HORIZON], "windows": 3, "step_days": 3, "n_estimators": 30},
    )
    shop = generate_shop(600, 120, days=SHOP_DAYS, seed=11)
    start = int(shop.events["ts"].min()) // DAY_MS * DAY_MS
    cutoff = start + (SHOP_DAYS - HORIZON) * DAY_MS
    items, events = _chinese_corner(cutoff)
    with Engine(settings) as engine:
        engine.put_items(pd.concat([shop.items, pd.DataFrame(items)], ignore_index=True))
        engine.put_users(shop.users)
        engine.ingest_events(shop.events[shop.events["ts"] < cutoff])
        engine.ingest_events(events)
        train_propensity(engine.store, settings)
    return settings, shop, cutoff


def _top_leaf(shop, cutoff: int) -> str:
    history = shop.events[(shop.events["ts"] < cutoff) & (shop.events["kind"] == "view")]
    categories = history["item_id"].map(shop.items.set_index("item_id")["category"])
    return str(categories.value_counts().index[0])


def test_audience_ranks_users_by_probability(shop_before_cutoff):
    settings, shop, cutoff = shop_before_cutoff
    item = shop.events[shop.events["kind"] == "purchase"]["item_id"].iloc[0]
    with TestClient(create_app(settings)) as client:
        answer = client.get(f"/v1/items/{item}/audience", params={"k": 25, "at": cutoff})
        assert answer.status_code == 200, answer.text
        users = answer.json()["users"]
        assert len(users) == 25
        probabilities = [u["probability"] for u in users]
        assert probabilities == sorted(probabilities, reverse=True)
        assert 0 <= probabilities[-1] and probabilities[0] <= 1
        zh = client.get(f"/v1/items/{ZH_ITEM}/audience", params={"k": 3, "at": cutoff}).json()
        assert zh["item_id"] == ZH_ITEM and ZH_USER in {u["user_id"] for u in zh["users"]}
        too_many = client.get(f"/v1/items/{item}/audience", params={"k": 10_000})
        assert too_many.status_code == 422 and too_many.json()["field"] == "k"
        assert client.get("/v1/items/no-such-item/audience").status_code == 404


def test_coupon_campaign_respects_the_budget(shop_before_cutoff):
    settings, shop, cutoff = shop_before_cutoff
    leaf = _top_leaf(shop, cutoff)
    value = round(0.05 * float(shop.items.loc[shop.items["category"] == leaf, "price"].median()), 1)
    budget = 30.5 * value
    body = {"category": leaf, "value": value, "budget": budget, "margin": 0.9, "at": cutoff}
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/campaigns/coupon", json=body)
        assert answer.status_code == 200, answer.text
        plan = answer.json()
        assert plan["target"]["category"] == leaf and plan["assumption"]
        assert 0 < plan["coupons"] <= math.floor(budget / value) == plan["max_coupons"] == 30
        assert plan["worst_case_cost"] <= budget
        profits = [u["expected_profit"] for u in plan["users"]]
        assert min(profits) > 0 and profits == sorted(profits, reverse=True)
        assert all(u["probability_with_coupon"] >= u["probability"] for u in plan["users"])
        zh = client.post(
            "/v1/campaigns/coupon", json={**body, "category": ZH_CATEGORY, "value": 20.0}
        )
        assert zh.status_code == 200 and zh.json()["target"]["category"] == ZH_CATEGORY


@pytest.mark.parametrize(
    "change, field",
    [
        ({"value": 0}, "value"),
        ({"value": -5}, "value"),
        ({"margin": 1.5}, "margin"),
        ({"budget": 0}, "budget"),
        ({"budget": 1.0}, "budget"),  # not one coupon of 3
        ({"value": 10_000.0}, "value"),  # above the category's price
        ({"item_id": "i1"}, "item_id"),  # both item and category
        ({"category": None}, "item_id"),  # neither
        ({"days": 3}, "days"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_coupon_requests_name_the_field(shop_before_cutoff, change, field):
    settings, shop, cutoff = shop_before_cutoff
    body = {"category": _top_leaf(shop, cutoff), "value": 3.0, "budget": 100.0, "margin": 0.6}
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/campaigns/coupon", json={**body, **change})
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == field
        unknown = client.post("/v1/campaigns/coupon", json={**body, "category": "无此类目"})
        assert unknown.status_code == 404


def test_targeted_users_gain_more_planted_profit_than_random_ones(shop_before_cutoff):
    settings, shop, cutoff = shop_before_cutoff
    leaf = _top_leaf(shop, cutoff)
    in_leaf = shop.items[shop.items["category"] == leaf]
    value, margin = round(0.05 * float(in_leaf["price"].median()), 1), 0.9
    campaign = CouponCampaign(
        value=value, budget=60 * value, margin=margin, category=leaf, at=cutoff
    )
    with Engine(settings) as engine:
        from tailor.campaigns.service import Campaigns

        plan = Campaigns(engine.store, settings, engine.propensity).coupon(campaign)
    planted = planted_coupon_profit(
        shop,
        in_leaf["item_id"].tolist(),
        value,
        margin * plan["target"]["reference_price"],
        shop_days=SHOP_DAYS,
        horizon_days=HORIZON,
    )
    existing = shop.users.loc[shop.users["created_at"] < cutoff, "user_id"].astype(str)
    assert set(planted.index) == set(existing) != set(shop.users["user_id"].astype(str))
    outcome = targeting_outcome(planted, [u["user_id"] for u in plan["users"]], 60)
    assert outcome.coupons >= 5
    assert outcome.captured > max(outcome.random, 0.0)


def test_price_sensitivity_is_recovered_from_planted_carts():
    rng = np.random.default_rng(3)
    items = pd.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(50)],
            "category": "c",
            "price": np.round(np.exp(3.0 + 0.5 * rng.normal(size=50)), 1),
        }
    )
    positions = price_positions(items)
    planted = np.repeat([0.2, 1.2], 30)  # thrifty users are the second half
    rows = []
    for u, sensitivity in enumerate(planted):
        viewed = rng.choice(items["item_id"], size=300)
        rate = 0.05 * np.exp(-sensitivity * positions.loc[viewed, "z"].to_numpy())
        carted = viewed[rng.random(len(viewed)) < np.minimum(rate, 1.0)]
        rows += [(f"u{u}", item, "view", 0) for item in viewed]
        rows += [(f"u{u}", item, "cart", 1) for item in carted]
    past = pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts"])
    fit = fit_price_sensitivity(past, price_positions(items))
    measured = fit.of([f"u{u}" for u in range(len(planted))])
    assert measured[30:].mean() > fit.prior_mean_ > measured[:30].mean()
    assert np.corrcoef(measured, planted)[0, 1] > 0.7
    assert fit.of(["stranger"])[0] == pytest.approx(fit.prior_mean_)


def test_coupon_uplift_and_choice():
    p = np.array([0.0, 0.1, 0.1, 0.5])
    grid = np.array([0.0, 1.0, 2.0])
    certain = np.eye(3)[[1, 0, 1, 2]]  # sensitivities 1, 0, 1 and 2, known exactly
    multiplier = np.exp(grid * 0.3)
    lifted = with_coupon(p, certain, multiplier)
    assert lifted[0] == 0 and lifted[1] == pytest.approx(0.1)
    assert lifted[2] == pytest.approx(1 - 0.9 ** np.exp(0.3)) and 0.5 < lifted[3] < 1
    unsure = with_coupon(p[2:3], np.array([[0.5, 0.0, 0.5]]), multiplier)
    assert unsure[0] > lifted[2]  # the same mean sensitivity, uncertain: more expected uplift
    profit = pd.Series([3.0, -1.0, 5.0, 3.0], index=["b", "x", "a", "c"])
    assert list(choose(profit, 2)) == ["a", "b"]
    assert list(choose(profit, 10)) == ["a", "b", "c"]
    with pytest.raises(InvalidInputError) as bad:
        CouponCampaign(value=1.0, budget=10.0, margin=0.3, item_id="i1", category="c")
    assert bad.value.field == "item_id"


def _priced(prices: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"item_id": [f"i{k}" for k in range(len(prices))], "category": "c", "price": prices}
    )


def test_an_item_coupon_scales_the_rate_by_exp_of_sensitivity_times_its_shift():
    items = _priced([10.0, 20.0, 40.0])
    positions = price_positions(items)
    target = resolve_target(items, positions, pd.Series(dtype=float), item_id="i1")
    grid = np.array([0.0, 0.5, 1.5])
    shift = np.log(20.0 / 15.0) / positions.loc["i1", "spread"]
    assert target.price_shift(5.0) == pytest.approx(shift)
    assert target.rate_multiplier(grid, 5.0) == pytest.approx(np.exp(grid * shift))


def test_a_category_coupon_cuts_cheap_items_deeper_and_lifts_sensitive_users_more():
    items = _priced([12.0, 16.0, 24.0, 40.0])
    positions = price_positions(items)
    views = pd.Series(9.0, index=items["item_id"])
    target = resolve_target(items, positions, views, category="c")
    assert target.price == 20.0 and target.item_id is None
    grid = np.array([0.0, 0.5, 1.0, 2.0])
    lift = target.rate_multiplier(grid, 5.0)
    assert lift[0] == pytest.approx(1.0)  # an insensitive user buys as before
    assert np.all(np.diff(lift) > 0)
    per_item = np.array(
        [
            resolve_target(items, positions, views, item_id=i).rate_multiplier(grid, 5.0)
            for i in items["item_id"]
        ]
    )
    assert np.all(np.diff(per_item[:, -1]) < 0)  # 12 -> 7 is the deepest cut
    # a sensitive user's purchases lean to the cheap items, where the cut is deepest
    assert np.all(lift[1:] > per_item.mean(axis=0)[1:])
    lopsided = resolve_target(items, positions, pd.Series({"i3": 1000.0}), category="c")
    assert np.all(lopsided.rate_multiplier(grid, 5.0)[1:] < lift[1:])  # views lean to the dear
    cheap = _priced([4.0, 4.5])
    uncovered = resolve_target(cheap, price_positions(cheap), views, category="c")
    assert uncovered.rate_multiplier(grid, 2.5) == pytest.approx(
        [1.0] * 4
    )  # below the minimum spend


def test_requests_as_of_now_share_one_snapshot_refreshed_in_the_background_once_it_ages(
    tmp_path, monkeypatch
):
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/t.db", artifacts_dir=tmp_path)
    shop = demo_shop(150, 40)  # its history ends today, so "now" has users
    reads = []
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.ingest_events(shop.events)
        events = engine.store.events
        monkeypatch.setattr(engine.store, "events", lambda **kw: reads.append(kw) or events(**kw))
        campaigns = engine.campaigns
        first = campaigns.snapshot()
        assert campaigns.snapshot() is first and len(reads) == 1  # as of now: reused
        assert campaigns.snapshot(at=first.now) is not first and len(reads) == 2  # explicit: read
        user = str(first.users.index[0])
        assert campaigns.holds_user(user) and campaigns.forget_user(user) == 1
        assert campaigns.snapshot() is not first and len(reads) == 3  # erased: read afresh
        aged = campaigns._latest = replace(campaigns.snapshot(), made=time.monotonic() - 61)
        assert campaigns.snapshot() is aged  # older than 60 s: served while a new one is read
        campaigns.wait_for_refresh(timeout=30)
        assert len(reads) == 4 and campaigns.snapshot() is not aged


def test_an_erasure_during_a_background_refresh_discards_what_that_refresh_read(
    tmp_path, monkeypatch
):
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/t.db", artifacts_dir=tmp_path)
    shop = demo_shop(150, 40)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.ingest_events(shop.events)
        campaigns = engine.campaigns
        aged = campaigns._latest = replace(campaigns.snapshot(), made=time.monotonic() - 61)
        user = str(aged.users.index[0])
        reading, erased = threading.Event(), threading.Event()
        events = engine.store.events

        def slow_events(**kw):
            reading.set()
            erased.wait(timeout=30)
            return events(**kw)  # still holds the user: the store was not erased in this test

        monkeypatch.setattr(engine.store, "events", slow_events)
        assert campaigns.snapshot() is aged and reading.wait(timeout=30)
        assert campaigns.forget_user(user) == 1
        erased.set()
        campaigns.wait_for_refresh(timeout=30)
        assert campaigns._latest is None  # the refresh's read began before the erasure


def test_a_started_server_warms_up_profiles_and_the_campaign_snapshot(shop_before_cutoff):
    settings, _, _ = shop_before_cutoff
    warm = settings.model_copy(
        update={"service": settings.service.model_copy(update={"warm_up": True})}
    )
    with Engine(warm) as engine, TestClient(create_app(warm, engine)) as client:
        assert engine._warming is not None
        engine._warming.join(timeout=120)
        assert client.get("/healthz").json()["warming_up"] is False
        assert engine.campaigns._latest is not None  # the item page's likely buyers need no read
        assert engine.profiles._facts is not None
    with Engine(settings) as cold, TestClient(create_app(settings, cold)) as client:
        assert cold._warming is None and client.get("/healthz").json()["warming_up"] is False


def test_a_snapshot_read_before_an_erasure_by_another_replica_is_read_again(tmp_path):
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/t.db", artifacts_dir=tmp_path)
    shop = demo_shop(150, 40)
    with Engine(settings) as this, Engine(settings) as other:
        this.put_items(shop.items)
        this.ingest_events(shop.events)
        first = this.campaigns.snapshot()
        user = str(first.users.index[0])
        assert this.campaigns.snapshot() is first
        erase_user(other, user, actor="test")
        again = this.campaigns.snapshot()
        assert again is not first and user not in again.users.index
        assert this.campaigns.snapshot() is again  # read after the erasure: kept
