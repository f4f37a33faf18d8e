"""One small shop with the demo FAQ, a popularity model and an assistant, shared by the tests here
(building the assistant fits its intent classifier and loads the encoder: seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from assistant_setup import shop_settings

from tailor.assistant import Assistant, import_faq
from tailor.engine import Engine
from tailor.ingest.synthetic import SyntheticShop, generate_shop


@pytest.fixture(scope="session")
def demo_faq_path() -> Iterator[Path]:
    with resources.as_file(resources.files("tailor.assistant.data") / "demo_faq.md") as path:
        yield path


@pytest.fixture(scope="session")
def assistant_shop(tmp_path_factory, demo_faq_path) -> Iterator[tuple[Engine, SyntheticShop]]:
    folder = tmp_path_factory.mktemp("assistant")
    shop = generate_shop(80, 48, days=14, seed=5)
    with Engine(shop_settings(folder)) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        import_faq(engine.store, demo_faq_path)
        engine.train(evaluate=False)
        yield engine, shop


@pytest.fixture(scope="session")
def assistant(assistant_shop) -> Assistant:
    return Assistant(assistant_shop[0])
