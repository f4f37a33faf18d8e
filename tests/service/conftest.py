from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient
from service_setup import add_key, bearer, settings_in

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service import create_app


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    """A small synthetic shop, stored and trained once per module."""
    folder = tmp_path_factory.mktemp("shop")
    shop = generate_shop(120, 60, days=30, seed=3)
    with Engine(settings_in(folder)) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train()
    return folder, shop


@pytest.fixture
def settings(tmp_path):
    return settings_in(tmp_path)


@pytest.fixture
def shop(trained_folder, tmp_path):
    """This test's own copy of the trained shop (store and artifacts) in tmp_path."""
    folder, shop = trained_folder
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    return shop


@pytest.fixture
def admin_key(settings, shop):
    return add_key(settings)


@pytest.fixture
def client(settings, admin_key):
    """A client of the trained shop sending an admin key with every request."""
    with TestClient(create_app(settings), headers=bearer(admin_key)) as client:
        yield client
