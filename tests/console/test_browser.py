"""The console in a real browser: Debian's Chromium driven by Playwright against a real uvicorn.

Every page is visited in both languages; a page that logs a console error fails its test.
Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from conftest import add_key
from console_words import leftovers

from tailor.console.browser import CHROMIUM, launch_chromium, running_server
from tailor.console.capabilities import capability
from tailor.console.i18n import Words

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"{CHROMIUM} is not installed (scripts/ensure-browser.sh installs it)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")

SHOTS = Path(__file__).parents[2] / "test-artifacts" / "console"
NAV = ("overview", "models", "users", "items", "push", "experiments", "health")
CHARTS = {"overview": 1, "models": 3, "health": 1}
LOAD_SECONDS = 1.0
NAVIGATION_MS = (
    "() => { const n = performance.getEntriesByType('navigation')[0];"
    " return n.loadEventEnd - n.startTime; }"
)
VISIBLE_TEXT = """() => { const body = document.body.cloneNode(true);
  body.querySelectorAll('#lang-switch, script, code').forEach(e => e.remove());
  return body.innerText; }"""


@pytest.fixture(scope="module")
def base_url(settings, admin_key):
    with running_server(settings) as url:
        # Once before timing pages: the first profile loads the text encoder (~4 s).
        with httpx.Client(base_url=url, timeout=60) as warm:
            warm.post("/console/sign-in", data={"key": admin_key, "next": "/console"})
            assert warm.get("/console/users/u1").status_code == 200
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh browser context's page; any console error or uncaught exception fails the test."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    errors = list(page.errors)
    context.close()
    assert errors == [], f"browser console errors: {errors}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(page, key: str) -> None:
    page.goto("/console")
    page.fill("#key", key)
    page.click("#sign-in")
    page.wait_for_url("**/console")


def language(page) -> str:
    return "zh" if page.get_attribute("html", "lang") == "zh-CN" else "en"


def test_sign_in_is_required_and_the_session_cookie_is_http_only(page, admin_key, settings):
    page.goto("/console/models")
    assert "/console/sign-in" in page.url
    shot(page, "sign-in")
    page.fill("#key", add_key(settings, "read"))
    page.click("#sign-in")
    words = Words(language(page))
    assert page.inner_text("#sign-in-error") == words("sign_in_not_admin")
    assert len(page.errors) == 1 and "401" in page.errors[0]  # the refused form's answer
    page.errors.clear()
    page.fill("#key", admin_key)
    page.click("#sign-in")
    page.wait_for_url("**/console/models")
    assert "tailor_console" not in page.evaluate("document.cookie")
    (session,) = [c for c in page.context.cookies() if c["name"] == "tailor_console"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    page.click("#sign-out")
    page.wait_for_url("**/console/sign-in")
    page.goto("/console/health")
    assert "/console/sign-in" in page.url


def test_every_page_in_both_languages(page, admin_key, engine):
    sign_in(page, admin_key)
    overview_shows_the_store_and_the_model(page, engine)
    slowest = 0.0
    for lang in ("en", "zh"):
        if language(page) != lang:
            page.click("#lang-switch")
            page.wait_for_load_state("load")
        words = Words(lang)
        for name in NAV:
            page.click(f"nav a[data-nav={name}]")
            page.wait_for_load_state("load")
            assert language(page) == lang
            heading = page.inner_text("h1")
            assert heading == words(f"nav_{name}"), (lang, name, heading)
            assert leftovers(page.evaluate(VISIBLE_TEXT), lang) == [], (lang, name)
            drawn = page.locator(".chart .main-svg").count()
            assert drawn >= CHARTS.get(name, 0), (lang, name, drawn)
            slowest = max(slowest, page.evaluate(NAVIGATION_MS) / 1000)
            shot(page, f"{lang}-{name}")
    print(f"slowest console page load in the browser: {slowest:.3f} s")
    assert slowest <= LOAD_SECONDS, f"the slowest page loaded in {slowest:.2f} s"


def overview_shows_the_store_and_the_model(page, engine):
    counts = engine.store.counts()
    for name in ("events", "users", "items"):
        assert page.inner_text(f"#count-{name}") == f"{counts[name]:,}"
    assert engine.version in page.inner_text("#current-model")
    legend = page.inner_text("#events-per-day")
    assert Words("en")("kind_view") in legend and Words("en")("kind_purchase") in legend


def test_explore_a_user_then_an_item_then_switch_language(page, admin_key, engine):
    sign_in(page, admin_key)
    page.click("nav a[data-nav=users]")
    page.fill("#user-query", "u1")
    page.click("#user-search")
    page.wait_for_url("**/console/users/u1")
    rows = page.locator("#user-recommendations table").first.locator("tbody tr")
    expected = engine.recommend("u1", 10, lang="en")
    assert rows.count() == len(expected) > 0
    for row, rec in zip(rows.all(), expected):
        cells = row.locator("td").all_inner_texts()
        assert (cells[1], cells[3]) == (rec.item_id, rec.reason)
    shot(page, "en-user")

    first = expected[0].item_id
    rows.first.locator("a").click()
    page.wait_for_url(f"**/console/items/{first}")
    similar = page.locator("#similar-items tbody tr td:nth-child(2)").all_inner_texts()
    assert similar == [r.item_id for r in engine.similar_items(first, 10)]
    shot(page, "en-item")

    page.click("#lang-switch")
    page.wait_for_url(f"**/console/items/{first}")
    assert language(page) == "zh" and page.inner_text("h1") == f"商品 {first}"
    page.go_back()
    page.goto("/console/users/u1")
    zh_reasons = page.locator("#user-recommendations tbody tr td:nth-child(4)").all_inner_texts()
    assert zh_reasons[: len(expected)] == [r.reason for r in engine.recommend("u1", 10, lang="zh")]
    shot(page, "zh-user")


def test_push_page_previews_a_plan_or_says_it_has_not_landed(page, admin_key, engine):
    sign_in(page, admin_key)
    for lang in ("en", "zh"):
        if language(page) != lang:
            page.click("#lang-switch")
            page.wait_for_load_state("load")
        page.click("nav a[data-nav=push]")
        page.wait_for_load_state("load")
        if capability(engine, "push_plan") is None:
            assert page.inner_text("#push-status .notice") == Words(lang)("push_not_landed")
        else:
            page.fill("input[name=k]", "2")
            page.click("#push-preview")
            page.wait_for_load_state("load")
            assert page.input_value("input[name=k]") == "2"
            planned = page.locator("#push-plan tbody tr").count()
            refused = page.locator("#push-error code").all_inner_texts()
            assert planned > 0 or refused, (
                "the preview shows neither a plan nor the planner's answer"
            )
        shot(page, f"{lang}-push-interaction")
