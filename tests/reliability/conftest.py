"""A small trained shop served in-process, with an admin key, for the hostile-input and fuzz tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.propensity.service import train_propensity
from tailor.reviews import train_reviews
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.settings import Role, Settings, load_settings
from tailor.store import open_store


def settings_in(folder: Path, **service: object) -> Settings:
    return load_settings(
        store_url=f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn", "content"]},
        reviews={"min_reviews": 2},  # the small shop has a handful
        service=service,
    )


def admin_key(settings: Settings) -> str:
    with open_store(settings.store_url) as store:
        return create_key(store, Role.admin, "reliability-tests")[0]


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic shop, stored and trained once per module (recommenders, purchase
    prediction and review sentiment, so no route answers 503 for want of a model)."""
    folder = tmp_path_factory.mktemp("shop")
    shop = generate_shop(80, 40, days=20, seed=7)
    with Engine(settings_in(folder)) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train()
        train_propensity(engine.store, engine.settings)
        train_reviews(engine.store, engine.settings)
    return folder


@pytest.fixture
def settings(trained_folder: Path, tmp_path: Path) -> Settings:
    """This test's own copy of the trained shop."""
    shutil.copytree(trained_folder, tmp_path, dirs_exist_ok=True)
    return settings_in(tmp_path)


def admin_client(settings: Settings) -> TestClient:
    """A client sending an admin key with every request; 5xx answers come back, not raised."""
    headers = {"Authorization": f"Bearer {admin_key(settings)}"}
    return TestClient(create_app(settings), headers=headers, raise_server_exceptions=False)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with admin_client(settings) as client:
        yield client
