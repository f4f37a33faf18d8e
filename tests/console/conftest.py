"""A small trained synthetic shop, its admin key, and a console client signed in with it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.settings import Role, TrainSettings, load_settings
from tailor.store import open_store


def shop_settings(folder, store_url: str | None = None):
    train = {"models": ["popular", "itemknn", "ease"]}
    if "ranker" in TrainSettings.model_fields:
        # The pages need a trained artifact, not a learned ranker: its LightGBM fit would be
        # most of this fixture's time.
        train["ranker"] = {"enabled": False}
    return load_settings(
        store_url=store_url or f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train=train,
    )


def fill_and_train(settings) -> None:
    shop = generate_shop(300, 120, days=30, seed=3)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train()


def add_key(settings, role: Role = Role.admin) -> str:
    with open_store(settings.store_url) as store:
        return create_key(store, role, f"console-tests-{role}")[0]


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """The trained shop (300 users, 120 items, 30 days), shared read-only by the console tests."""
    settings = shop_settings(tmp_path_factory.mktemp("console-shop"))
    fill_and_train(settings)
    return settings


@pytest.fixture(scope="session")
def admin_key(settings) -> str:
    return add_key(settings)


@pytest.fixture(scope="session")
def engine(settings):
    with Engine(settings) as engine:
        engine.load()
        yield engine


def sign_in(client: TestClient, key: str):
    return client.post("/console/sign-in", data={"key": key, "next": "/console"})


@pytest.fixture(scope="session")
def app_client(settings):
    """One app for the session (its engine loads the text encoder once), not following redirects."""
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client


@pytest.fixture
def anonymous(app_client):
    """The app's client without a session or a language cookie."""
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


@pytest.fixture
def client(anonymous, admin_key):
    """The app's client signed in to the console."""
    assert sign_in(anonymous, admin_key).status_code == 303
    return anonymous
