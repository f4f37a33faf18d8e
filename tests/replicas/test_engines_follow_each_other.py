"""Engines over one store and one shared cache follow each other's catalogue changes; a gap in
the feed re-reads the whole catalogue; an unreachable cache does not stop answers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tailor.cache import InProcessCache, ItemChange
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.settings import Settings, load_settings

FOLLOW_SECONDS = 0.05


def settings_in(folder: Path, **cache: object) -> Settings:
    return load_settings(
        store_url=f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn"], "ranker": {"enabled": False}},
        cache={"follow_seconds": FOLLOW_SECONDS, "item_changes": 100, **cache},
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("shared")
    shop = generate_shop(120, 60, days=30, seed=11)
    with Engine(settings_in(folder)) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train(evaluate=False)
    return folder


@pytest.fixture
def pair(folder) -> Iterator[tuple[Engine, Engine]]:
    """Two loaded engines sharing one in-process cache, as two replicas share Redis."""
    cache = InProcessCache(max_changes=100)
    settings = settings_in(folder)
    with Engine(settings, cache=cache) as first, Engine(settings, cache=cache) as second:
        first.load()
        second.load()
        yield first, second


def popular_after_follow(engine: Engine) -> list[str]:
    time.sleep(FOLLOW_SECONDS * 1.5)
    return [r.item_id for r in engine.popular(20)]


def test_item_writes_and_deletes_on_one_engine_reach_the_other(pair):
    first, second = pair
    hidden, deleted = [r.item_id for r in second.popular(2)]
    row = first.store.items([hidden])
    first.put_items(row.assign(hidden=True))
    assert hidden not in popular_after_follow(second)
    second.delete_items([deleted])
    assert deleted not in popular_after_follow(first)
    second.put_items(row.assign(hidden=False))
    assert hidden in popular_after_follow(first)


def test_a_gap_in_the_feed_re_reads_the_whole_catalogue(pair):
    first, second = pair
    hidden = second.popular(1)[0].item_id
    # Written around the engines (no change published), then 150 changes of unknown items: the
    # reader's next look finds its place trimmed, so it re-reads the catalogue and sees both.
    first.store.upsert_items(first.store.items([hidden]).assign(hidden=True))
    for n in range(150):
        first.cache.publish_items(ItemChange("elsewhere", "upsert", (f"unknown{n}",)))
    assert hidden not in popular_after_follow(second)


def test_an_unreachable_cache_is_logged_and_reported_and_answers_go_on(folder, caplog):
    settings = settings_in(folder, redis_url="redis://127.0.0.1:1/0", timeout_seconds=0.2)
    with Engine(settings) as engine:
        engine.load()
        assert len(engine.popular(5)) == 5
        assert any("redis_url" in problem for problem in engine.health()["problems"])
    assert "not followed" in caplog.text
