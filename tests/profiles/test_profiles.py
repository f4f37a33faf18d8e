"""Profiles: every field on a hand-made history with known answers, incremental == rebuild,
the store-backed book, the HTTP route and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tailor.cli import app as cli_app
from tailor.engine import Engine
from tailor.errors import InvalidInputError, UnknownUserError
from tailor.ingest.synthetic import generate_shop
from tailor.privacy import erase_user
from tailor.profiles import ItemFacts, ProfileBook, build_state, new_state
from tailor.profiles.catalogue import label_in
from tailor.profiles.interest import InterestSpace
from tailor.profiles.view import histogram_percentile
from tailor.settings import load_settings

DAY = 86_400_000
HOUR = 3_600_000
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC
BEAUTY = "美妆 Beauty/面霜 Face cream"
TECH = "数码 Electronics/充电器 Charger"


def _items() -> pd.DataFrame:
    rows = [
        ("a", BEAUTY, "青木 Aoki", ["有机 organic"], 100.0),
        ("b", BEAUTY, "星河 Galaxa", [], 200.0),
        ("c", BEAUTY, "星河 Galaxa", [], 300.0),
        ("d", TECH, "极客 Geeko", ["热卖 bestseller"], 50.0),
        ("e", TECH, "极客 Geeko", [], 150.0),
    ]
    return pd.DataFrame(
        {
            "item_id": [r[0] for r in rows],
            "title": [f"{r[2]} {r[1].split('/')[-1]}" for r in rows],
            "category": [r[1] for r in rows],
            "brand": [r[2] for r in rows],
            "tags": [r[3] for r in rows],
            "price": [r[4] for r in rows],
        }
    )


def _event(eid, item, kind, ts, channel, value=None, query=None):
    return {
        "event_id": eid,
        "user_id": "u1",
        "item_id": item,
        "kind": kind,
        "ts": ts,
        "value": value,
        "channel": channel,
        "query": query,
    }


HISTORY = [
    _event("e1", "a", "view", T0 + 9 * HOUR, "web"),
    _event("e2", None, "search", T0 + 10 * DAY + 21 * HOUR, "app", query="面霜"),
    _event("e3", "b", "purchase", T0 + 10 * DAY + 21 * HOUR + 300_000, "app", value=2.0),
    _event("e4", "d", "view", T0 + 20 * DAY + 21 * HOUR, "app"),
    _event("e5", "d", "purchase", T0 + 20 * DAY + 21 * HOUR + 600_000, "app"),
    _event(
        "e6", None, "search", T0 + 20 * DAY + 20 * HOUR + 3_000_000, "mini-program", query="charger"
    ),
]
NOW = T0 + 21 * DAY


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("profiles")
    return load_settings(
        store_url=f"sqlite:///{folder}/t.db",
        artifacts_dir=folder / "artifacts",
        profiles={"half_life_days": 10, "new_days": 14, "active_days": 30, "churn_days": 90},
    )


@pytest.fixture(scope="module")
def hand_engine(settings):
    with Engine(settings) as engine:
        engine.put_items(_items())
        engine.put_users([{"user_id": "u1", "attributes": {"timezone": "Asia/Shanghai"}}])
        engine.ingest_events(HISTORY)
        yield engine


def _decay(age_ms: float) -> float:
    return 0.5 ** (age_ms / (10 * DAY))


def test_every_field_of_a_hand_made_history(hand_engine):
    p = hand_engine.profiles.profile("u1", "en", now=NOW)
    e = {ev["event_id"]: ev for ev in HISTORY}
    beauty = 1 * _decay(NOW - e["e1"]["ts"]) + 10 * _decay(NOW - e["e3"]["ts"])
    tech = 1 * _decay(NOW - e["e4"]["ts"]) + 10 * _decay(NOW - e["e5"]["ts"])
    assert [(c["name"], c["label"]) for c in p["top_categories"]] == [
        (TECH, "Electronics/Charger"),
        (BEAUTY, "Beauty/Face cream"),
    ]
    assert [c["weight"] for c in p["top_categories"]] == [round(tech, 4), round(beauty, 4)]
    assert [b["label"] for b in p["top_brands"]] == ["Geeko", "Galaxa", "Aoki"]
    assert p["top_brands"][2]["weight"] == round(_decay(NOW - e["e1"]["ts"]), 4)
    assert [t["label"] for t in p["top_tags"]] == ["bestseller", "organic"]
    # Relative prices: a = 1/6, b = 1/2 among Beauty; d = 1/4 among Electronics; 20 bins.
    assert p["price_band"]["viewed"] == {"n": 2, "p25": 0.175, "p50": 0.2, "p75": 0.275}
    assert p["price_band"]["bought"] == {"n": 2, "p25": 0.275, "p50": 0.3, "p75": 0.525}
    assert p["price_band"]["band"] == "budget"
    activity = p["activity"]
    assert activity["events"] == 6 and activity["frequency"] == 2
    assert activity["monetary"] == 2 * 200.0 + 50.0
    assert activity["recency_days"] == round((NOW - e["e5"]["ts"]) / DAY, 2)
    assert activity["segment"] == "promising"  # 2 recent purchases, fewer than loyal_orders=3
    assert p["lifecycle"]["stage"] == "active"  # first seen 21 days ago (> 14), last seen today
    assert p["channel"] == {
        "preferred": "app",
        "shares": {"app": 0.6667, "mini-program": 0.1667, "web": 0.1667},
    }
    # UTC hours 21 (x4), 9, 20 -> Asia/Shanghai (+8): 5, 17, 4
    assert p["hours"] == {"timezone": "Asia/Shanghai", "preferred": [5, 17, 4]}
    assert p["search_intents"] == ["charger", "面霜"]
    assert p["interest"]["items"] == 3 and len(p["interest"]["keywords"]) == 5
    assert "Charger" in p["interest"]["keywords"] or "Face cream" in p["interest"]["keywords"]
    assert p["summary"].startswith("active user, promising")


def test_lifecycle_and_segments_move_with_time(hand_engine, settings):
    book = hand_engine.profiles
    last = HISTORY[4]["ts"]
    assert book.profile("u1", now=last + 40 * DAY)["lifecycle"]["stage"] == "at_risk"
    assert book.profile("u1", now=last + 40 * DAY)["activity"]["segment"] == "needs_attention"
    assert book.profile("u1", now=last + 100 * DAY)["lifecycle"]["stage"] == "churned"
    assert book.profile("u1", now=last + 100 * DAY)["activity"]["segment"] == "hibernating"
    young = ProfileBook(
        hand_engine.store,
        settings.model_copy(
            update={"profiles": settings.profiles.model_copy(update={"new_days": 30})}
        ),
    )
    assert young.profile("u1", now=NOW)["lifecycle"]["stage"] == "new"


def test_chinese_profile_and_interest_vector(hand_engine):
    p = hand_engine.profiles.profile("u1", "zh", now=NOW, vector=True)
    assert p["lifecycle"]["label"] == "活跃" and p["activity"]["segment_label"] == "潜力客户"
    assert p["top_categories"][0]["label"] == "数码/充电器"
    assert p["price_band"]["label"] == "实惠"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in w) for w in p["interest"]["keywords"])
    assert {"面霜", "充电器"} & set(p["interest"]["keywords"][:3])
    vector = np.array(p["interest"]["vector"])
    facts = ItemFacts(_items())
    texts = [facts.get(i).text for i in ("a", "b", "d")]
    expected = hand_engine.profiles._catalogue()[1].encoder.encode(texts).mean(axis=0)
    np.testing.assert_allclose(vector, expected, atol=1e-4)
    assert p["summary"].startswith("活跃用户，潜力客户")


class CountingEncoder:
    """Letter-count vectors; remembers every text it was asked to encode."""

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, batch_size=64, progress=False):
        self.seen.extend(texts)
        rows = np.array([[t.count(c) for c in "aeiou"] for t in texts], dtype=np.float32)
        return rows + 1.0


def test_a_reloaded_catalogue_encodes_only_new_or_changed_text():
    encoder, items = CountingEncoder(), _items()
    first = InterestSpace(encoder, ItemFacts(items))
    before = first.vector(["a", "b", "d"])
    first.nearest_keywords(before, "en", 3)
    encoded = len(encoder.seen)
    items.loc[items["item_id"] == "b", "title"] = "星河 Galaxa serum"
    second = InterestSpace(encoder, ItemFacts(items), previous=first)
    second.vector(["a", "d"])
    second.nearest_keywords(before, "en", 3)
    assert len(encoder.seen) == encoded  # unchanged texts and keywords: nothing encoded again
    second.vector(["b"])
    assert encoder.seen[encoded:] == [ItemFacts(items).get("b").text]


def test_unknown_user_and_bad_language(hand_engine):
    with pytest.raises(UnknownUserError):
        hand_engine.profiles.profile("nobody")
    with pytest.raises(InvalidInputError) as err:
        hand_engine.profiles.profile("u1", "fr")
    assert err.value.field == "lang"


def test_helpers_known_answers():
    assert (
        label_in("热卖 bestseller", "zh") == "热卖" and label_in("Skin care", "zh") == "Skin care"
    )
    assert label_in("美妆 Beauty/护肤 Skin care", "en") == "Beauty/Skin care"
    bins = [0] * 20
    bins[0], bins[19] = 1, 1
    assert histogram_percentile(bins, 50) == 0.05 and histogram_percentile([0] * 20, 50) is None


def _snapshot(state, now):
    numbers = {
        k: v
        for k, v in vars(state).items()
        if k not in ("categories", "brands", "tags", "anchor", "monetary")
    }
    tables = {k: state.decayed(getattr(state, k), now) for k in ("categories", "brands", "tags")}
    return numbers, tables, state.monetary


def test_incremental_folding_equals_a_full_rebuild():
    shop = generate_shop(40, 60, days=20, seed=5)
    settings = load_settings(
        store_url="sqlite://", profiles={"recent_items": 5, "recent_queries": 3}
    )
    facts = ItemFacts(shop.items)
    now = int(shop.events["ts"].max()) + DAY
    rng = np.random.default_rng(0)
    for user_id, events in list(shop.events.groupby("user_id"))[:15]:
        full = build_state(settings, events, facts)
        state = new_state(settings)
        shuffled = events.sample(frac=1.0, random_state=int(rng.integers(1000)))
        for chunk in np.array_split(np.arange(len(shuffled)), 4):
            state.fold_all(
                shuffled.iloc[chunk].to_dict("records"), facts, settings.ingest.event_weights
            )
        (n_full, t_full, m_full), (n_inc, t_inc, m_inc) = (
            _snapshot(full, now),
            _snapshot(state, now),
        )
        assert n_full == n_inc, user_id
        assert math.isclose(m_full, m_inc, rel_tol=1e-9)
        for name in t_full:
            assert t_full[name].keys() == t_inc[name].keys()
            for key in t_full[name]:
                assert math.isclose(t_full[name][key], t_inc[name][key], rel_tol=1e-9)


def test_the_book_folds_new_events_without_double_counting(hand_engine, settings):
    book = hand_engine.profiles
    before = book.state("u1").n_events
    later = T0 + 20 * DAY + 21 * HOUR + 600_000  # the same time as the latest folded event
    hand_engine.ingest_events(
        [
            _event("e7", "c", "cart", later, "web"),
            _event("e8", "e", "view", later + DAY, "web"),
        ]
    )
    state = book.state("u1")
    assert state.n_events == before + 2
    rebuilt = build_state(settings, hand_engine.store.events(user_ids=["u1"]), ItemFacts(_items()))
    now = later + 2 * DAY
    assert _snapshot(state, now)[0] == _snapshot(rebuilt, now)[0]


def test_cli_profile_in_both_languages(settings, hand_engine, tmp_path):
    config = tmp_path / "tailor.toml"
    config.write_text(
        f'store_url = "{settings.store_url}"\n[profiles]\nhalf_life_days = 10\n', encoding="utf-8"
    )
    runner = CliRunner()
    zh = runner.invoke(
        cli_app, ["-c", str(config), "profile", "u1", "--lang", "zh", "--at", str(NOW)]
    )
    assert zh.exit_code == 0, zh.output
    assert "用户画像" in zh.output and "数码/充电器" in zh.output
    out = runner.invoke(cli_app, ["-c", str(config), "profile", "u1", "--json", "--at", str(NOW)])
    assert out.exit_code == 0 and json.loads(out.output)["channel"]["preferred"] == "app"
    missing = runner.invoke(cli_app, ["-c", str(config), "profile", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_a_user_erased_through_another_replica_is_not_answered_from_this_ones_cache(tmp_path):
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/t.db", artifacts_dir=tmp_path)
    with Engine(settings) as this, Engine(settings) as other:
        this.put_items(_items())
        this.ingest_events(HISTORY)
        assert this.profiles.profile("u1", now=NOW)["user_id"] == "u1"  # cached here
        erase_user(other, "u1", actor="test")
        with pytest.raises(UnknownUserError):
            this.profiles.profile("u1", now=NOW)
        assert not this.profiles.holds_user("u1")
