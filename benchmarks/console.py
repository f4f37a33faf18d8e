"""Console page loads on the demo shop: server time per page, and the full load in Chromium.

The shop is what `tailor demo` builds (3,000 users, 1,000 items, the 60 days to today, seed 0)
with the default settings, stored in a fresh SQLite file (or `--store-url`), trained (recommenders
and purchase prediction). A real uvicorn serves the app on 127.0.0.1. Once /healthz no longer
says `warming_up` (at start the server loads the language model and the campaign snapshot in the
background), each page is requested once (`first_ms`), then `--repeats` times over HTTP:
`server_p50_ms`/`server_max_ms` are request to last byte. With Chromium installed, each page is
then opened in a browser and `browser_load_ms` is the navigation's load event (HTML, CSS,
plotly.min.js from cache after the first page, charts drawn). All of that runs with the default
settings. Then a second server on the same shop, whose likely-buyers snapshot ages after
`--aged-snapshot-seconds` (1 s; 60 s by default), times the item page again with each request
made after the snapshot aged: the row "item, snapshot aged" pays for whatever an aged snapshot
costs (a background re-read competing for the cores).
Goal: every page <= 1,000 ms.

    .venv/bin/python benchmarks/console.py --json /tmp/console.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tailor.console.browser import CHROMIUM, launch_chromium, running_server
from tailor.engine import Engine
from tailor.evaluation.report import machine, print_report, write_json
from tailor.ingest.demo import demo_shop
from tailor.propensity.service import train_propensity
from tailor.service.auth import create_key
from tailor.settings import Role, Settings, load_settings

PAGES = {
    "overview": "/console",
    "models": "/console/models",
    "user": "/console/users/u1",
    "user search": "/console/users?q=u",
    "item": "/console/items/i10",
    "push": "/console/push",
    "experiments": "/console/experiments",
    "health": "/console/health",
}
AGED_ITEM = "item, snapshot aged"
WARM_UP_SECONDS = 300
NAVIGATION_MS = (
    "() => { const n = performance.getEntriesByType('navigation')[0];"
    " return n.loadEventEnd - n.startTime; }"
)


def build_shop(folder: Path, store_url: str | None, users: int, items: int) -> tuple[Settings, str]:
    settings = load_settings(
        path=None,
        store_url=store_url or f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
    )
    shop = demo_shop(users, items, seed=0)
    start = time.perf_counter()
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train()
        train_propensity(engine.store, engine.settings)
        key = create_key(engine.store, Role.admin, "console-bench")[0]
    print(
        f"shop stored and trained in {time.perf_counter() - start:.1f} s: {len(shop.events):,} events"
    )
    return settings, key


def server_times(
    base: str, key: str, repeats: int
) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Per page: the first request's ms, and the timed requests' ms."""
    times: dict[str, list[float]] = {}
    first: dict[str, float] = {}
    with signed_in(base, key) as client:
        for name, path in PAGES.items():
            start = time.perf_counter()
            assert client.get(path).status_code == 200, path  # warm-up
            first[name] = (time.perf_counter() - start) * 1000
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                answer = client.get(path)
                samples.append((time.perf_counter() - start) * 1000)
                assert answer.status_code == 200, path
            times[name] = samples
    return first, times


def aged_item_times(base: str, key: str, repeats: int, snapshot_seconds: float) -> list[float]:
    """The item page's ms, each request made once its likely buyers' snapshot has aged."""
    samples = []
    with signed_in(base, key) as client:
        client.get(PAGES["item"]).raise_for_status()
        for _ in range(repeats):
            time.sleep(snapshot_seconds + 0.2)
            start = time.perf_counter()
            client.get(PAGES["item"]).raise_for_status()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


@contextlib.contextmanager
def signed_in(base: str, key: str) -> Iterator[httpx.Client]:
    """A console session on a server that has finished its warm-up."""
    with httpx.Client(base_url=base, timeout=120) as client:
        wait_for_warm_up(client)
        client.post("/console/sign-in", data={"key": key, "next": "/console"})
        yield client


def aged_settings(settings: Settings, snapshot_seconds: float) -> Settings:
    campaigns = settings.campaigns.model_copy(update={"snapshot_seconds": snapshot_seconds})
    return settings.model_copy(update={"campaigns": campaigns})


def wait_for_warm_up(client: httpx.Client) -> None:
    """As a load balancer's readiness check would: until /healthz stops saying warming_up."""
    deadline = time.monotonic() + WARM_UP_SECONDS
    while client.get("/healthz").json()["warming_up"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"still warming up after {WARM_UP_SECONDS} s")
        time.sleep(0.2)


def browser_times(base: str, key: str) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    loads = {}
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(base_url=base)
        page.goto("/console")
        page.fill("#key", key)
        page.click("#sign-in")
        page.wait_for_url("**/console")
        for name, path in PAGES.items():
            page.goto(path, wait_until="load")
            loads[name] = page.evaluate(NAVIGATION_MS)
        browser.close()
    return loads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--store-url", help="default: a fresh SQLite file")
    parser.add_argument(
        "--aged-snapshot-seconds",
        type=float,
        default=1.0,
        help="campaigns.snapshot_seconds of the second server (the aged-snapshot row)",
    )
    parser.add_argument("--json", help="write the rows and protocol here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings, key = build_shop(Path(folder), args.store_url, args.users, args.items)
        with running_server(settings) as base:
            first, server = server_times(base, key, args.repeats)
            browser = browser_times(base, key) if os.access(CHROMIUM, os.X_OK) else {}
        aged = aged_settings(settings, args.aged_snapshot_seconds)
        with running_server(aged) as base:
            server[AGED_ITEM] = aged_item_times(base, key, args.repeats, args.aged_snapshot_seconds)
    rows = [
        {
            "page": name,
            "first_ms": round(first[name], 1) if name in first else None,
            "server_p50_ms": round(statistics.median(samples), 1),
            "server_max_ms": round(max(samples), 1),
            "browser_load_ms": round(browser[name], 1) if name in browser else None,
        }
        for name, samples in server.items()
    ]
    protocol = {
        "name": "console page load",
        "shop": f"demo_shop({args.users}, {args.items}, seed=0) (60 days to today), default "
        "settings, recommenders and purchase prediction trained",
        "store": args.store_url or "sqlite (fresh file)",
        "repeats": args.repeats,
        "aged_snapshot_seconds": args.aged_snapshot_seconds,
        "goal_ms": 1000,
        "machine": machine(),
    }
    print_report(
        "Console pages",
        protocol,
        rows,
        ["page", "first_ms", "server_p50_ms", "server_max_ms", "browser_load_ms"],
    )
    if args.json:
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    main()
