"""Console pages through the app (TestClient): access, both languages, and what each page shows."""

from __future__ import annotations

import json
import re
import time
from html import unescape

import pytest
from conftest import add_key, fill_and_train, shop_settings, sign_in
from console_words import leftovers, visible_text
from fastapi.testclient import TestClient

from tailor.campaigns.service import Campaigns
from tailor.console.capabilities import capability
from tailor.console.i18n import LANG_COOKIE, Words
from tailor.console.routes import router
from tailor.console.session import SESSION_COOKIE
from tailor.engine import Engine
from tailor.errors import TailorError
from tailor.service import create_app
from tailor.settings import Role

PAGES = {
    "overview": "/console",
    "models": "/console/models",
    "users": "/console/users/u1",
    "items": "/console/items/i10",
    "push": "/console/push",
    "experiments": "/console/experiments",
    "health": "/console/health",
}
PAGE_SECONDS = 1.0


def in_language(client: TestClient, lang: str) -> TestClient:
    client.cookies.set(LANG_COOKIE, lang, path="/console")
    return client


def cells(html: str, table_id: str, column: int) -> list[str]:
    """The text of one column of a table inside the element with `table_id`."""
    section = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.DOTALL)
    texts = []
    for row in rows:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
        if len(tds) > column:
            texts.append(unescape(re.sub(r"<[^>]+>", "", tds[column])).strip())
    return texts


@pytest.mark.parametrize("path", [*PAGES.values(), "/console/users", "/console/items?q=i1"])
def test_every_page_redirects_to_sign_in_without_a_session(anonymous, path):
    answer = anonymous.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in?next=/console")
    anonymous.cookies.set(SESSION_COOKIE, "abc123def456.9999999999.00", path="/console")
    assert anonymous.get(path).status_code == 303


def test_every_console_route_is_a_page_behind_sign_in_or_one_of_the_open_ones(settings, anonymous):
    open_routes = {
        ("GET", "/console/sign-in"),
        ("POST", "/console/sign-in"),
        ("POST", "/console/sign-out"),
        ("GET", "/console/lang/{lang}"),
        ("GET", "/console/static/plotly.min.js"),
        ("GET", "/console/static/{name}"),
    }
    routes = {(method, route.path) for route in router(settings).routes for method in route.methods}
    assert open_routes <= routes
    for method, template in sorted(routes - open_routes):
        path = template.format(user_id="u1", item_id="i10")
        answer = anonymous.request(method, path)
        assert answer.status_code == 303, (method, path)
        assert answer.headers["location"].startswith("/console/sign-in?next=")


def test_sign_in_page_explains_how_to_get_a_key(anonymous):
    page = anonymous.get("/console/sign-in", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert page.status_code == 200
    assert "管理员 API 密钥" in page.text and "tailor keys create --role admin" in page.text


@pytest.mark.parametrize("role", [None, Role.read, Role.ingest])
def test_sign_in_refuses_unknown_and_non_admin_keys(anonymous, settings, role):
    key = add_key(settings, role) if role else "tlr_000000000000_" + "x" * 43
    answer = sign_in(anonymous, key)
    assert answer.status_code == 401
    assert SESSION_COOKIE not in answer.cookies
    words = Words("en")
    expected = words("sign_in_not_admin") if role else words("sign_in_unknown_key")
    assert expected in unescape(answer.text)


def test_sign_in_sets_a_signed_http_only_cookie_without_the_key(anonymous, admin_key):
    answer = sign_in(anonymous, admin_key)
    assert answer.status_code == 303 and answer.headers["location"] == "/console"
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    assert admin_key.split("_", 2)[2] not in cookie
    assert anonymous.get("/console").status_code == 200


@pytest.mark.parametrize("target", ["https://elsewhere.example/", "//elsewhere.example", "/docs"])
def test_sign_in_only_returns_to_console_pages(anonymous, admin_key, target):
    answer = anonymous.post("/console/sign-in", data={"key": admin_key, "next": target})
    assert answer.headers["location"] == "/console"


def test_sign_out_ends_the_session(client):
    assert client.get("/console").status_code == 200
    answer = client.post("/console/sign-out")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    assert client.get("/console").status_code == 303


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_speaks_one_language_and_loads_within_a_second(client, lang, name):
    in_language(client, lang)
    client.get(PAGES[name])  # once to warm up: the first profile loads the text encoder (~4 s)
    start = time.perf_counter()
    page = client.get(PAGES[name])
    seconds = time.perf_counter() - start
    assert page.status_code == 200
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in page.text
    words = Words(lang)
    assert f"<h1>{words('nav_' + name)}</h1>" in page.text or name in ("users", "items")
    assert leftovers(visible_text(page.text), lang) == []
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert seconds <= PAGE_SECONDS, f"{PAGES[name]} took {seconds:.2f} s"


def test_the_language_switch_keeps_the_page(client):
    answer = client.get("/console/lang/zh?next=/console/users/u1")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/users/u1"
    assert "用户 u1" in client.get("/console/users/u1").text
    client.get("/console/lang/en?next=/console/users/u1")
    assert "User u1" in client.get("/console/users/u1").text


def test_overview_counts_what_the_store_holds(client, engine):
    page = client.get("/console").text
    counts = engine.store.counts()
    for name in ("events", "users", "items"):
        shown = re.search(rf'id="count-{name}">([\d,]+)<', page).group(1)
        assert int(shown.replace(",", "")) == counts[name]
    assert engine.version in page and 'data-figure="events-per-day-data"' in page


def test_models_page_lists_the_current_metrics(client, engine):
    page = client.get("/console/models").text
    blend = engine.manifest.metrics["blend"]
    assert f"{blend['ndcg_at_10']:.4f}" in page and "NDCG@10" in page
    assert engine.version in cells(page, "versions-table", 0)[0]


def test_models_page_charts_accuracy_by_segment_and_shows_training_memory(client, engine):
    page = in_language(client, "en").get("/console/models").text
    figures = [
        json.loads(body)
        for body in re.findall(
            r'<script type="application/json" id="model-chart-\d+-data">(.*?)</script>', page
        )
    ]
    by_title = {f["layout"]["title"]["text"]: f["data"] for f in figures}
    blend = engine.manifest.segment_metrics["blend"]["popularity"]["head"]
    title = "NDCG@10 by target item popularity (share of interactions)"
    (series,) = [s for s in by_title[title] if s["name"] == Words("en").model("blend")]
    label = f"head: top 20%<br>({blend['n_users']:,.0f} users)"
    assert dict(zip(series["x"], series["y"], strict=True))[label] == blend["ndcg_at_10"]
    assert f"{engine.manifest.peak_rss_mb:.1f} MB" in page and "train again" not in page


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_user_page_shows_the_engine_recommendations_and_their_reasons(client, engine, lang):
    page = in_language(client, lang).get("/console/users/u1").text
    expected = engine.recommend("u1", 10, lang=lang)
    assert cells(page, "user-recommendations", 1)[: len(expected)] == [r.item_id for r in expected]
    assert cells(page, "user-recommendations", 3)[: len(expected)] == [r.reason for r in expected]
    timeline = engine.store.recent_events("u1", 50)
    assert len(cells(page, "user-timeline", 0)) == len(timeline)


def test_item_page_shows_similar_items_and_audience(client, engine):
    page = client.get("/console/items/i10").text
    expected = [r.item_id for r in engine.similar_items("i10", 10)]
    assert cells(page, "similar-items", 1) == expected
    assert 'data-figure="item-events-data"' in page


def test_item_page_lists_the_users_most_likely_to_buy_it(client, monkeypatch):
    def audience(self, item_id, k, **_):
        users = [{"user_id": "u7", "probability": 0.4321}, {"user_id": "u3", "probability": 0.05}]
        return {"item_id": item_id, "days": 7, "model_version": "v1", "users": users[:k]}

    monkeypatch.setattr(Campaigns, "audience", audience)
    for lang in ("en", "zh"):
        page = unescape(in_language(client, lang).get("/console/items/i10").text)
        assert cells(page, "likely-buyers", 0) == ["u7", "u3"]
        assert cells(page, "likely-buyers", 1) == ["43.2%", "5.0%"]
        assert Words(lang)("likely_buyers_hint", days=7) in page


def test_item_page_says_why_there_is_no_audience_without_purchase_prediction(client, engine):
    with pytest.raises(TailorError) as raised:
        engine.campaigns.audience("i10", 10)  # this shop trained no propensity model
    page = unescape(client.get("/console/items/i10").text)
    assert raised.value.message in page and 'id="likely-buyers"' not in page


def test_searching_goes_to_an_exact_match_or_lists_matches(client):
    assert client.get("/console/users?q=u1").headers["location"] == "/console/users/u1"
    listed = client.get("/console/users?q=u").text
    assert '<a href="/console/users/u10">u10</a>' in listed
    assert client.get("/console/items?q=i10").headers["location"] == "/console/items/i10"
    assert "/console/items/" in client.get("/console/items?q=%E9%9D%A2%E9%9C%9C").text  # 面霜
    assert Words("en")("no_user_matches", query="zz") in unescape(
        client.get("/console/users?q=zz").text
    )


def test_unknown_user_and_item_are_404_with_a_message(client):
    user = client.get("/console/users/nobody")
    assert user.status_code == 404 and "There is no user nobody" in user.text
    item = client.get("/console/items/nothing")
    assert item.status_code == 404 and "There is no item nothing" in item.text


@pytest.mark.parametrize(
    ("name", "path", "key"),
    [
        ("purchase", "/console/users/u1", "purchase_not_landed"),
        ("profile", "/console/users/u1", "profile_not_landed"),
        ("push_plan", "/console/push", "push_not_landed"),
        ("experiments", "/console/experiments", "experiments_not_landed"),
        ("bought_together", "/console/items/i10", "bought_together_not_landed"),
        ("audience", "/console/items/i10", "audience_not_landed"),
    ],
)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_capability_not_landed_is_said_plainly(client, engine, name, path, key, lang):
    notice = Words(lang)(key)
    page = unescape(in_language(client, lang).get(path).text)
    assert (notice in page) == (capability(engine, name) is None)


def test_a_capability_lights_up_once_the_engine_has_it(client, monkeypatch):
    def purchase_probability(self, user_id):
        return {"user_id": user_id, "days": 7, "model_version": "v1", "probability": 0.4321}

    monkeypatch.setattr(Engine, "purchase_probability", purchase_probability, raising=False)
    page = unescape(client.get("/console/users/u1").text)
    assert Words("en")("purchase_within", days=7, p="43.2") in page
    assert Words("en")("purchase_not_landed") not in page


def test_data_health_shows_schema_volume_and_rejected_rows(client, engine):
    bad = {"event_id": "health-1", "user_id": "u1", "item_id": "i1", "kind": "teleport", "ts": 1}
    assert engine.ingest_events([bad]).accepted == 0
    page = unescape(client.get("/console/health?check=true").text)
    assert "<code>kind</code>" in page and "teleport" in page
    assert Words("en")("latest_rejections", n=100) in page
    rejected = engine.store.write_log().query("source == 'events'")["rejected"].sum()
    overview = unescape(client.get("/console").text)
    assert Words("en")("rejected_in_days", n=f"{rejected:,}", days=30) in overview and rejected
    assert "<code>event_id</code>" in page and "integrity-ok" in page
    n_events = engine.store.counts()["events"]
    assert f"{n_events:,}" in page


def test_plotly_is_served_from_the_package(anonymous):
    js = anonymous.get("/console/static/plotly.min.js?v=1")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert "immutable" in js.headers["cache-control"]
    assert anonymous.get("/console/static/console.js").status_code == 200
    assert anonymous.get("/console/static/secrets.txt").status_code == 404


@pytest.mark.postgres
def test_pages_render_from_postgresql(empty_postgres_url, tmp_path):
    settings = shop_settings(tmp_path, empty_postgres_url)
    fill_and_train(settings)
    key = add_key(settings)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        sign_in(client, key)
        for lang in ("en", "zh"):
            in_language(client, lang)
            for path in PAGES.values():
                page = client.get(path)
                assert page.status_code == 200, path
                assert leftovers(visible_text(page.text), lang) == []
        with Engine(settings) as engine:
            counts = engine.store.counts()
        overview = client.get("/console").text
        assert f'id="count-events">{counts["events"]:,}<' in overview


def test_user_page_shows_the_profile_once_it_has_landed(client, engine):
    if capability(engine, "profile") is None:
        pytest.skip("profiles have not landed")
    page = unescape(in_language(client, "zh").get("/console/users/u1").text)
    expected = engine.profiles.profile("u1", "zh")
    assert f'<p id="profile-summary">{expected["summary"]}</p>' in page
    assert Words("zh")("profile_lifecycle") in page and expected["lifecycle"]["label"] in page


def test_experiments_page_shows_variant_rates_with_intervals_once_landed(client, engine):
    if capability(engine, "experiments") is None:
        pytest.skip("the online report has not landed")
    from tailor.store.base import Feedback, ServedList

    now = int(time.time() * 1000)
    lists = [
        ServedList(f"console-{v}-{i}", "home", ["i1", "i2"], now, "u1", "layout", v)
        for v in ("a", "b")
        for i in range(20)
    ]
    engine.store.add_served(lists)
    clicked = [lst for lst in lists if lst.variant == "b"][:5]
    engine.store.add_feedback(
        [Feedback(lst.request_id, "impression", now) for lst in lists]
        + [Feedback(lst.request_id, "click", now, "i1") for lst in clicked]
    )
    page = client.get("/console/experiments").text
    rows = cells(page, "experiments-table", 2)
    assert "a" in rows and "b" in rows
    ctr = dict(zip(rows, cells(page, "experiments-table", 7)))
    assert ctr["a"].startswith("0.00%") and ctr["b"].startswith("12.50% [")  # 5 of 40 shown
    assert 'data-figure="experiment-chart-1-data"' in page


def test_push_preview_counts_what_caps_and_quiet_hours_hold_back(client, engine, monkeypatch):
    if capability(engine, "push_plan") is None:
        pytest.skip("push planning has not landed")
    from tailor.push.plan import Candidate, Planned

    seen = []

    def plan_push(self, request, **_):
        seen.append(request)
        capped = request.rules.per_day < 100
        users = ["u1", "u2"] if capped else ["u1", "u2", "u3"]
        hour = "09" if capped else "23"  # quiet hours moved u2's send to the morning
        return [
            Planned(
                u,
                0,
                f"2026-02-01T{hour if u == 'u2' else '10'}:00:00+08:00",
                0.25,
                [Candidate("i1", 0.2, "because")],
                "champion" if u == "u1" else "at risk",
            )
            for u in users
        ]

    monkeypatch.setattr(Engine, "plan_push", plan_push)
    page = client.get("/console/push?preview=1&k=2&per_day=1&per_week=2&quiet_start=22").text
    assert seen[0].rules.k == 2 and seen[0].rules.quiet_start == 22 and seen[0].audience == "all"
    assert re.search(r'id="push-users">2<', page) and re.search(r'id="push-held-back">1<', page)
    assert re.search(r'id="push-moved">1<', page)
    assert cells(page, "push-plan", 0) == ["u1", "u2"]
    assert cells(page, "push-segments", 0) == ["at risk", "champion"]  # most users first
    assert cells(page, "push-segments", 1) == ["1", "1"]
    assert cells(page, "push-segments", 2) == ["2", "1"]
    bad = unescape(client.get("/console/push?preview=1&k=many").text)
    assert 'id="push-error"' in bad and "k must be a number" in bad


def test_push_preview_shows_the_planner_answer(client, engine):
    if capability(engine, "push_plan") is None:
        pytest.skip("push planning has not landed")
    page = client.get("/console/push?preview=1").text
    assert page.count('id="push-plan"') + page.count('id="push-error"') == 1


def test_user_page_lists_the_push_log_once_push_has_landed(client, engine):
    if capability(engine, "push_plan") is None:
        pytest.skip("push planning has not landed")
    now = int(time.time() * 1000)
    result = engine.ingest_events(
        [
            {
                "event_id": "console-push-1",
                "user_id": "u7",
                "item_id": "i10",
                "kind": "push_sent",
                "ts": now - 60_000,
                "channel": "app",
            },
            {
                "event_id": "console-push-2",
                "user_id": "u7",
                "item_id": "i10",
                "kind": "push_opened",
                "ts": now,
                "channel": "app",
            },
        ]
    )
    assert result.accepted + result.duplicates == 2, result.rejected
    page = in_language(client, "zh").get("/console/users/u7").text
    assert cells(page, "push-history", 1) == ["推送打开", "已推送"]
    assert cells(page, "push-history", 2) == ["i10", "i10"]
    assert 'id="push-history-empty"' in client.get("/console/users/u1").text
