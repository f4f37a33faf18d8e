"""`tailor keys` create, list and revoke, the key it prints opening the API, and the demo key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from service_setup import bearer
from typer.testing import CliRunner

from tailor.cli import app
from tailor.cli.keys import print_access, replace_demo_key
from tailor.cli.output import console
from tailor.service import create_app
from tailor.service.auth import create_key, key_id_of
from tailor.settings import Role, load_settings
from tailor.store import open_store

runner = CliRunner()


def test_create_list_revoke(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    created = runner.invoke(app, ["keys", "create", "--role", "read", "--name", "shop front"])
    assert created.exit_code == 0, created.output
    key = next(line for line in created.output.splitlines() if line.startswith("tlr_"))
    key_id = key_id_of(key)
    listed = runner.invoke(app, ["keys", "list"])
    assert key_id in listed.output and "shop front" in listed.output and "active" in listed.output
    assert key not in listed.output

    settings = load_settings(artifacts_dir=tmp_path / "none", service={"key_cache_seconds": 0})
    with TestClient(create_app(settings), headers=bearer(key)) as client:
        assert client.get("/v1/popular").status_code == 503  # past the gate; nothing trained
        revoked = runner.invoke(app, ["keys", "revoke", key_id])
        assert revoked.exit_code == 0 and "revoked" in revoked.output
        assert client.get("/v1/popular").status_code == 401
    assert "revoked" in runner.invoke(app, ["keys", "list"]).output

    unknown = runner.invoke(app, ["keys", "revoke", "nope"])
    assert unknown.exit_code == 1 and "tailor keys list" in unknown.output
    wrong = runner.invoke(app, ["keys", "create", "--role", "boss"])
    assert wrong.exit_code != 0


def test_each_demo_key_replaces_the_last(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        kept = create_key(store, Role.read, "shop")[1]
        first = replace_demo_key(store)[1]
        second = replace_demo_key(store)[1]
        by_id = {key.key_id: key for key in store.api_keys()}
    assert second.role == "admin" and by_id[second.key_id].revoked_at is None
    assert by_id[first.key_id].revoked_at is not None
    assert by_id[kept.key_id].revoked_at is None


def test_serve_says_when_the_api_is_open_or_no_key_can_open_it(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        for auth, expected in ((False, "every route is open"), (True, "no active API key")):
            with console.capture() as captured:
                print_access(load_settings(service={"auth": auth}), store)
            assert expected in captured.get()
        create_key(store, Role.read)
        with console.capture() as captured:
            print_access(load_settings(), store)
        assert captured.get() == ""
