"""Scenario endpoints (bought together, continue shopping, search), request ids, feedback, A/B."""

from __future__ import annotations

import shutil
import time
import uuid

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from service_setup import add_key, bearer

from tailor.engine import Engine
from tailor.engine.pending import pending_items
from tailor.engine.search import TextIndex
from tailor.errors import UnsupportedError
from tailor.ingest.synthetic import generate_shop
from tailor.online.ab import assign
from tailor.online.report import online_report
from tailor.service import create_app
from tailor.settings import SCENARIOS, load_settings
from tailor.store import open_store

MODELS = ["popular", "itemknn", "cobought", "content"]
HOUR_MS = 3_600_000
SEARCH_TEST = {
    "name": "search-taste",
    "scenarios": ["search"],
    "variants": [
        {"name": "text", "search_personalization": 0.0},
        {"name": "taste", "search_personalization": 0.9},
    ],
}
HOME_TEST = {
    "name": "one-per-category",
    "scenarios": ["home"],
    "variants": [{"name": "control"}, {"name": "cap1", "rules": {"category_cap": 1}}],
}


def settings_for(folder, **online):
    return load_settings(
        store_url=f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train={"models": MODELS, "ranker": {"enabled": False}},  # the ranker's own tests train it
        online=online,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenario-shop")
    shop = generate_shop(200, 80, days=30, seed=5)
    with Engine(settings_for(folder)) as engine:
        engine.put_items(shop.items)
        engine.ingest_events(shop.events)
        engine.train(evaluate=False)
    return folder, shop


@pytest.fixture
def folder(trained, tmp_path):
    shutil.copytree(trained[0], tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def shop(trained):
    return trained[1]


def client_for(settings):
    return TestClient(create_app(settings), headers=bearer(add_key(settings)))


@pytest.fixture
def client(folder):
    with client_for(settings_for(folder, experiments=[SEARCH_TEST, HOME_TEST])) as client:
        yield client


def title(shop, item_id, lang):
    return shop.items.set_index("item_id").loc[item_id, "attributes"][f"title_{lang}"]


def cobought(client):
    return client.app.state.engine.serving.artifact.models["cobought"]


def an_item_bought_with_others(client):
    model, ids = cobought(client), client.app.state.engine.serving.artifact.item_ids
    counts = {item_id: len(model.partners(ids.index(item_id))[0]) for item_id in ids.ids()}
    return max(counts, key=counts.get)


# ---- frequently bought together ----------------------------------------------------------------


def test_bought_together_lists_co_bought_items_first_with_reasons_in_both_languages(client, shop):
    item_id = an_item_bought_with_others(client)
    ids = client.app.state.engine.serving.artifact.item_ids
    partners = ids.ids(cobought(client).partners(ids.index(item_id))[0])
    body = client.get(f"/v1/items/{item_id}/bought-together", params={"k": 5}).json()
    assert body["scenario"] == "bought_together" and uuid.UUID(body["request_id"])
    first = body["items"][0]
    assert first["item_id"] == partners[0] and first["source"] == "cobought"
    assert first["reason"] == f"often bought together with {title(shop, item_id, 'en')}"
    assert first["explanation"]["anchor_item_id"] == item_id
    assert item_id not in [i["item_id"] for i in body["items"]]
    zh = client.get(
        f"/v1/items/{item_id}/bought-together", headers={"Accept-Language": "zh-CN"}
    ).json()
    assert zh["items"][0]["reason"] == f"常与 {title(shop, item_id, 'zh')} 一起购买"


def test_without_co_purchases_similar_items_fill_in_and_say_so(client, shop):
    item_id = an_item_bought_with_others(client)
    ids = client.app.state.engine.serving.artifact.item_ids
    partners = ids.ids(cobought(client).partners(ids.index(item_id))[0])
    hidden = [{"item_id": p, "hidden": True} for p in partners]
    assert client.put("/v1/items", json=hidden).json()["written"] == len(partners)
    body = client.get(f"/v1/items/{item_id}/bought-together", params={"k": 4}).json()
    assert len(body["items"]) == 4
    for item in body["items"]:
        assert item["item_id"] not in partners
        assert item["explanation"]["code"] == "similar_not_bought_together"
        assert item["reason"] == (
            f"similar to {title(shop, item_id, 'en')} (not bought together with it yet)"
        )
    zh = client.get(f"/v1/items/{item_id}/bought-together", params={"lang": "zh"}).json()
    assert zh["items"][0]["reason"].startswith(f"与 {title(shop, item_id, 'zh')} 相似")


def test_bought_together_of_an_unknown_item_is_404(client):
    answer = client.get("/v1/items/no-such-item/bought-together")
    assert answer.status_code == 404 and answer.json()["error"] == "UnknownItemError"


# ---- continue shopping -------------------------------------------------------------------------


def test_continue_shopping_lists_what_was_left_unbought(client, shop):
    now = int(time.time() * 1000)
    a, b, c, d, e, f = shop.items["item_id"][:6]  # f (i5) is out of stock
    events = [
        ("cart", a, now - 2 * HOUR_MS),
        ("view", b, now - HOUR_MS),
        ("view", c, now - HOUR_MS),
        ("purchase", c, now - HOUR_MS + 1),
        ("favorite", d, now - HOUR_MS),
        ("view", e, now - HOUR_MS),
        ("dislike", e, now - HOUR_MS + 1),
        ("view", f, now),
        ("view", "i7", now - 40 * 24 * HOUR_MS),  # older than continue_max_age_days
    ]
    rows = [{"user_id": "shopper", "kind": k, "item_id": i, "ts": t} for k, i, t in events]
    assert client.post("/v1/events", json=rows).json()["accepted"] == len(rows)
    body = client.get("/v1/users/shopper/continue-shopping").json()
    assert body["scenario"] == "continue_shopping"
    assert [i["item_id"] for i in body["items"]] == [a, d, b]
    assert [i["reason"] for i in body["items"]] == [
        "in your cart, not ordered yet",
        "you favourited this",
        "you viewed this",
    ]
    zh = client.get("/v1/users/shopper/continue-shopping", params={"lang": "zh"}).json()
    assert zh["items"][0]["reason"] == f"你加购了 {title(shop, a, 'zh')} 还没下单"
    assert zh["items"][2]["reason"] == f"你浏览过 {title(shop, b, 'zh')}"
    client.post("/v1/events", json={"user_id": "shopper", "kind": "purchase", "item_id": a})
    again = client.get("/v1/users/shopper/continue-shopping", params={"k": 1}).json()
    assert [i["item_id"] for i in again["items"]] == [d]


def test_continue_shopping_for_a_user_without_events_is_empty(client):
    assert client.get("/v1/users/nobody/continue-shopping").json()["items"] == []


# ---- personalized search -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, leaf",
    [("咖啡", "Coffee"), ("coffee", "Coffee"), ("耳机", "Earphones"), ("earphones", "Earphones")],
)
def test_search_finds_items_in_chinese_and_english(client, shop, query, leaf):
    body = client.get("/v1/search", params={"q": query, "k": 3}).json()
    categories = shop.items.set_index("item_id")["category"]
    assert body["scenario"] == "search" and len(body["items"]) == 3
    assert all(categories[i["item_id"]].endswith(leaf) for i in body["items"]), body["items"]
    assert body["items"][0]["reason"] == f'matches "{query}"'
    assert body["items"][0]["source"] == "content"


def test_search_re_ranks_for_the_users_taste_and_logs_the_search(client, shop):
    taste = next(f"fan{n}" for n in range(100) if assign_search(client, f"fan{n}") == "taste")
    categories = shop.items.set_index("item_id")["category"]
    beauty = [i for i, c in categories.items() if c.startswith("美妆")][:6]
    views = [{"user_id": taste, "kind": "cart", "item_id": i} for i in beauty]
    client.post("/v1/events", json=views)
    query = {"q": "便携 portable", "k": 5}
    anonymous = client.get("/v1/search", params=query).json()
    personal = client.get("/v1/search", params={**query, "user_id": taste, "lang": "zh"}).json()
    assert personal["variant"] == "taste" and personal["experiment"] == "search-taste"

    def beauty_share(body):
        return sum(categories[i["item_id"]].startswith("美妆") for i in body["items"]) / 5

    assert beauty_share(personal) > beauty_share(anonymous)
    first = personal["items"][0]
    assert categories[first["item_id"]].startswith("美妆")
    assert first["reason"] == "与“便携 portable”相关，也是你常逛的 美妆"
    with open_store(client.app.state.engine.settings.store_url) as store:
        logged = store.recent_events(taste, 1)
    assert logged["kind"].tolist() == ["search"] and logged["query"].tolist() == ["便携 portable"]


def assign_search(client, user_id):
    return assign(client.app.state.engine.settings.online.experiments[0], user_id).variant


def test_a_blank_query_is_refused_naming_q(client):
    answer = client.get("/v1/search", params={"q": "  "})
    assert answer.status_code == 422 and answer.json()["field"] == "q"


def test_search_without_the_content_model_says_how_to_get_it():
    with pytest.raises(UnsupportedError, match='add "content" to train.models'):
        TextIndex.of({})


# ---- request ids, A/B variants, feedback -------------------------------------------------------


def test_every_list_carries_a_request_id_and_its_scenario(client, shop):
    item_id = shop.items["item_id"][0]
    routes = {
        "home": "/v1/users/u1/recommendations",
        "similar": f"/v1/items/{item_id}/similar",
        "bought_together": f"/v1/items/{item_id}/bought-together",
        "continue_shopping": "/v1/users/u1/continue-shopping",
        "search": "/v1/search?q=tea",
        "popular": "/v1/popular",
    }
    assert set(routes) == set(SCENARIOS)
    ids = set()
    for scenario, path in routes.items():
        body = client.get(path).json()
        assert body["scenario"] == scenario, path
        ids.add(str(uuid.UUID(body["request_id"])))
    assert len(ids) == len(routes)


def test_home_feed_users_get_their_variant_and_its_rule_overrides(client, shop):
    experiment = client.app.state.engine.settings.online.experiments[1]
    users = shop.events["user_id"].unique().tolist()
    capped = next(u for u in users if assign(experiment, u).variant == "cap1")
    control = next(u for u in users if assign(experiment, u).variant == "control")
    tops = shop.items.set_index("item_id")["category"].str.split("/").str[0]
    body = client.get(f"/v1/users/{capped}/recommendations", params={"k": 6}).json()
    assert (body["experiment"], body["variant"]) == ("one-per-category", "cap1")
    assert tops[[i["item_id"] for i in body["items"]]].is_unique
    assert client.get(f"/v1/users/{capped}/recommendations").json()["variant"] == "cap1"
    assert client.get(f"/v1/users/{control}/recommendations").json()["variant"] == "control"
    overridden = client.get(
        f"/v1/users/{capped}/recommendations", params={"k": 10, "category_cap": 5}
    ).json()
    assert not tops[[i["item_id"] for i in overridden["items"]]].is_unique


def test_feedback_is_attributed_and_survives_a_restart(folder, shop):
    settings = settings_for(folder, experiments=[HOME_TEST])
    with client_for(settings) as client:
        served = client.get("/v1/users/u1/recommendations", params={"k": 4}).json()
    item = served["items"][1]["item_id"]
    rows = [
        {"request_id": served["request_id"], "kind": "impression"},
        {"request_id": served["request_id"], "kind": "click", "item_id": item},
        {"request_id": served["request_id"], "kind": "conversion", "item_id": item, "value": 9.5},
    ]
    with client_for(settings) as client:  # a new process would see the same store
        assert client.post("/v1/feedback", json=rows).json() == {"accepted": 3}
    with open_store(settings.store_url) as store:
        row = next(r for r in online_report(store).rows if r.variant is not None)
    assert (row.scenario, row.variant, row.shown, row.clicks, row.conversions) == (
        "home",
        served["variant"],
        4,
        1,
        1,
    )


def test_feedback_naming_an_unknown_request_or_item_is_refused_whole(client):
    served = client.get("/v1/popular", params={"k": 3}).json()
    good = {"request_id": served["request_id"], "kind": "impression"}
    unknown = client.post("/v1/feedback", json=[good, {"request_id": "nope", "kind": "click"}])
    assert unknown.status_code == 404 and unknown.json()["field"] == "request_id"
    assert "row 1" in unknown.json()["message"]
    stranger = {"request_id": served["request_id"], "kind": "click", "item_id": "not-shown"}
    assert client.post("/v1/feedback", json=stranger).json()["field"] == "item_id"
    no_item = {"request_id": served["request_id"], "kind": "conversion"}
    assert client.post("/v1/feedback", json=no_item).json()["field"] == "item_id"
    bad_kind = {"request_id": served["request_id"], "kind": "like"}
    assert client.post("/v1/feedback", json=bad_kind).json()["field"] == "kind"
    client.app.state.engine.scenarios.log.flush()
    with open_store(client.app.state.engine.settings.store_url) as store:
        assert store.online_log()[1].empty  # nothing of the refused batches was stored
    assert client.post("/v1/feedback", json=good).json() == {"accepted": 1}


def test_pending_items_keep_the_strongest_kind_and_restart_after_a_purchase():
    now = 1_800_000_000_000
    day = 24 * HOUR_MS
    rows = [
        ("a", "cart", now - 3 * day),
        ("a", "view", now - day),  # a later view keeps the cart's strength, with the view's age
        ("b", "purchase", now - 5 * day),
        ("b", "cart", now - 2 * day),  # carted again after buying: pending once more
        ("c", "click", now),  # a click reads as a view
        ("d", "search", now),
    ]
    events = pd.DataFrame(rows, columns=["item_id", "kind", "ts"])
    weights = {"view": 1.0, "click": 2.0, "cart": 6.0, "purchase": 10.0, "search": 0.0}
    found = pending_items(events, weights, now_ms=now, half_life_days=1.0, max_age_days=30)
    assert [(p.item_id, p.code, p.score) for p in found] == [
        ("a", "in_cart", 3.0),
        ("b", "in_cart", 1.5),
        ("c", "viewed_before", 1.0),
    ]
