import re
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tailor.ingest.shop_words import REVIEWS
from tailor.ingest.synthetic import generate_shop
from tailor.ingest.validate import validate_events, validate_items, validate_users
from tailor.settings import IngestSettings
from tailor.types import CATEGORY_SEPARATOR, DEFAULT_EVENT_WEIGHTS

START = datetime(2026, 1, 1, tzinfo=UTC)
START_MS = int(START.timestamp() * 1000)


@pytest.fixture(scope="module")
def shop():
    return generate_shop(1500, 400, days=60, seed=7)


def test_same_seed_same_shop_and_another_seed_differs():
    a, b = generate_shop(200, 60, days=20, seed=3), generate_shop(200, 60, days=20, seed=3)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert a.truth.successor == b.truth.successor
    c = generate_shop(200, 60, days=20, seed=4)
    assert not a.events["item_id"].equals(c.events["item_id"])


def test_default_shop_is_quick():
    started = time.process_time()
    shop = generate_shop()
    assert time.process_time() - started < 3.0  # about 0.2 s on an idle core
    assert len(shop.users) == 2000 and len(shop.items) == 500 and len(shop.events) > 20_000


def test_sizes_ids_and_time_window(shop):
    events = shop.events
    assert len(shop.items) == 400 and len(shop.users) == 1500
    assert set(events["user_id"]) <= set(shop.users["user_id"])
    assert set(events["item_id"].dropna()) <= set(shop.items["item_id"])
    assert events["event_id"].is_unique and events["ts"].is_monotonic_increasing
    assert events["ts"].min() >= START_MS and events["ts"].max() < START_MS + 60 * 86_400_000
    created = events.merge(shop.items[["item_id", "created_at"]], on="item_id")
    assert (created["ts"] >= created["created_at"]).all()  # no event before an item exists
    assert set(events["kind"]) == {"search", "view", "favorite", "cart", "purchase", "review"}
    assert set(events["channel"]) == {"web", "app", "mini-program"}


def test_the_shop_passes_validation_untouched(shop):
    settings = IngestSettings()
    assert set(shop.events["kind"]) <= set(DEFAULT_EVENT_WEIGHTS)
    for validate, frame in (
        (validate_events, shop.events),
        (validate_items, shop.items),
        (validate_users, shop.users),
    ):
        validated = validate(frame, settings)
        assert validated.rejected == [] and validated.duplicates == 0
        assert len(validated.frame) == len(frame)


def test_catalogue_is_bilingual_with_a_three_level_tree(shop):
    items = shop.items
    assert items["title"].map(lambda t: bool(re.search(r"[\u4e00-\u9fff]", t))).all()
    assert items["title"].map(lambda t: bool(re.search(r"[A-Za-z]{3}", t))).all()
    assert items["description"].str.contains("everyday").all()
    levels = items["category"].str.split(CATEGORY_SEPARATOR)
    assert (levels.str.len() == 3).all() and levels.str[0].nunique() == 6
    assert (items["price"] > 0).all() and (items["stock"] == 0).mean() > 0.02
    assert (items["created_at"] >= START_MS).mean() > 0.03  # new arrivals
    assert items["tags"].map(lambda t: "新品 new" in t).sum() > 0
    assert shop.users["attributes"].map(lambda a: "region" in a).all()


def test_purchases_are_preceded_by_a_view_of_the_item(shop):
    events = shop.events
    first_view = events[events["kind"] == "view"].groupby(["user_id", "item_id"])["ts"].min()
    purchases = events[events["kind"] == "purchase"].join(
        first_view.rename("viewed"), on=["user_id", "item_id"]
    )
    assert len(purchases) > 300
    assert (purchases["viewed"] < purchases["ts"]).mean() > 0.95


def test_the_planted_successor_dominates_consecutive_views(shop):
    views = shop.events[shop.events["kind"] == "view"].sort_values(
        ["session_id", "ts"], kind="stable"
    )
    same_session = views["session_id"].to_numpy()[1:] == views["session_id"].to_numpy()[:-1]
    prev, nxt = (
        views["item_id"].to_numpy()[:-1][same_session],
        views["item_id"].to_numpy()[1:][same_session],
    )
    hits = np.mean([shop.truth.successor[p] == n for p, n in zip(prev, nxt)])
    assert 0.35 < hits < 0.6  # planted with probability 0.45; chance is about 1/70
    # and a model of first-order transitions would find it as the top next item
    pairs = pd.DataFrame({"prev": prev, "next": nxt}).value_counts().reset_index()
    top_next = pairs.sort_values("count", ascending=False).drop_duplicates("prev")
    frequent = top_next[top_next["count"] >= 5]
    assert (frequent["next"] == frequent["prev"].map(shop.truth.successor)).mean() > 0.9


def test_views_follow_taste_and_purchases_follow_propensity(shop):
    truth, events = shop.truth, shop.events
    leaf_of = dict(zip(shop.items["item_id"], shop.items["category"]))
    leaf_index = {path: k for k, path in enumerate(truth.leaves)}
    user_index = {u: k for k, u in enumerate(shop.users["user_id"])}
    views = events[events["kind"] == "view"]
    u = views["user_id"].map(user_index).to_numpy()
    leaf = views["item_id"].map(leaf_of).map(leaf_index).to_numpy()
    assert truth.taste[u, leaf].mean() > 3 / len(truth.leaves)  # uniform browsing would give 1/24
    counts = events.groupby(["user_id", "kind"]).size().unstack(fill_value=0)
    active = counts[counts["view"] >= 30]
    rate = active["purchase"] / active["view"]
    propensity = pd.Series(truth.purchase_propensity, index=shop.users["user_id"]).loc[active.index]
    assert rate.corr(propensity, method="spearman") > 0.5


def test_consumables_are_bought_again_at_their_period(shop):
    events = shop.events
    purchases = events[events["kind"] == "purchase"].merge(
        shop.items[["item_id", "category"]], on="item_id"
    )
    periods = purchases["category"].map(shop.truth.repurchase_days)
    repeat = purchases[periods.notna()].sort_values("ts").groupby(["user_id", "item_id"])
    gaps = repeat["ts"].diff().dropna() / 86_400_000
    expected = purchases.loc[gaps.index, "category"].map(shop.truth.repurchase_days)
    assert len(gaps) > 30
    assert 0.8 < float(np.median(gaps / expected)) < 1.25


def test_review_text_agrees_with_the_rating_loosely(shop):
    reviews = shop.events[shop.events["kind"] == "review"]
    assert len(reviews) > 50 and reviews["value"].between(1, 5).all()
    assert reviews["text"].nunique() > len(reviews) / 3  # composed, not a handful of sentences

    def says(polarity: str) -> pd.Series:
        phrasings = [t for by in REVIEWS.values() for pair in by[polarity] for t in pair]
        return reviews["text"].str.contains("|".join(map(re.escape, phrasings)))

    praises, complains = says("positive"), says("negative")
    high, low = reviews["value"] >= 4, reviews["value"] <= 2
    assert praises[high].mean() > 0.6 > complains[high].mean()
    assert complains[low].mean() > 0.6 > praises[low].mean()
    assert complains[high].any() and praises[low].any()  # ratings are noisy labels of the text
    quality = pd.Series(shop.truth.item_quality, index=shop.items["item_id"])
    assert reviews["value"].corr(reviews["item_id"].map(quality)) > 0.5


def test_searches_carry_queries_in_both_languages(shop):
    queries = shop.events.loc[shop.events["kind"] == "search", "query"]
    assert (
        queries.notna().all()
        and shop.events.loc[shop.events["kind"] == "search", "item_id"].isna().all()
    )
    chinese = queries.map(lambda q: bool(re.search(r"[\u4e00-\u9fff]", q)))
    assert 0.4 < chinese.mean() < 0.9


def test_too_small_a_catalogue_is_refused():
    with pytest.raises(ValueError, match="at least 24"):
        generate_shop(10, 5)


def test_channels_hours_and_activity_follow_the_planted_preferences(shop):
    truth, events = shop.truth, shop.events
    users = pd.Index(shop.users["user_id"])
    views = events[events["kind"] == "view"]
    rows = users.get_indexer(views["user_id"])
    channel_code = views["channel"].map({"web": 0, "app": 1, "mini-program": 2}).to_numpy()
    assert truth.channel_preference[rows, channel_code].mean() > 0.5  # chance: 1/3
    hour = (views["ts"].to_numpy() // 3_600_000) % 24
    distance = np.abs((hour - truth.preferred_hour[rows] + 12) % 24 - 12)
    assert np.median(distance) <= 2
    per_user = views.groupby("user_id").size().reindex(users, fill_value=0)
    assert per_user.corr(pd.Series(truth.activity, index=users), method="spearman") > 0.6
