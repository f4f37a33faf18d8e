"""Screenshots of the console for the README: the overview (in Chinese) and a user page (in English).

Builds a synthetic shop like `tailor demo` (smaller by default, so it takes a minute or two) in a
temporary folder with the default settings, trains, serves it with uvicorn on 127.0.0.1, signs in
with a new admin key, and saves PNGs with Debian's Chromium (scripts/ensure-browser.sh installs it).

    .venv/bin/python scripts/console-screenshots.py            # writes docs/images/console-*.png
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tailor.console.browser import launch_chromium, running_server
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service.auth import create_key
from tailor.settings import Role, load_settings

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"
SHOTS = {  # file -> (language, page, whole page or the first screen)
    "console-overview-zh.png": ("zh", "/console", True),
    "console-user-en.png": ("en", "/console/users/u1", False),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            path=None, store_url=f"sqlite:///{folder}/tailor.db", artifacts_dir=Path(folder) / "a"
        )
        shop = generate_shop(args.users, args.items, seed=0)
        with Engine(settings) as engine:
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            engine.ingest_events(shop.events)
            engine.train()
            key = create_key(engine.store, Role.admin, "screenshots")[0]
        with running_server(settings) as base, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(base_url=base, viewport={"width": 1280, "height": 900})
            page.goto("/console")
            page.fill("#key", key)
            page.click("#sign-in")
            page.wait_for_url("**/console")
            for name, (lang, path, whole) in SHOTS.items():
                page.goto(f"/console/lang/{lang}?next={path}", wait_until="load")
                page.wait_for_timeout(300)  # let the charts finish drawing
                page.screenshot(path=str(args.out / name), full_page=whole)
                print(f"wrote {args.out / name}")
            browser.close()


if __name__ == "__main__":
    main()
