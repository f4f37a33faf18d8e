"""The privacy routes over HTTP: erasure receipt, purge, audit log; admin only."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient
from privacy_setup import DAY_MS, ERASED_USER, shop_settings, user_events

from tailor.engine import Engine
from tailor.privacy import audit_target
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.settings import Role


def test_erase_purge_and_audit_log_over_http(tmp_path: Path) -> None:
    settings = shop_settings(tmp_path, f"sqlite:///{tmp_path}/t.db", service={"auth": True})
    with Engine(settings) as engine:
        old = user_events("old-shopper", ["i1"], start_ms=10_000 * DAY_MS)
        engine.ingest_events(user_events(ERASED_USER, ["i1", "i2"], start_ms=20_000 * DAY_MS))
        engine.ingest_events(old)
        admin, stored_admin = create_key(engine.store, Role.admin, "ops")
        reader, _ = create_key(engine.store, Role.read, "shop")
    with TestClient(create_app(settings)) as client:
        as_admin = {"Authorization": f"Bearer {admin}"}
        path = f"/v1/users/{quote(ERASED_USER, safe='')}"
        assert client.delete(path, headers={"Authorization": f"Bearer {reader}"}).status_code == 403

        erased = client.delete(path, headers=as_admin)
        assert erased.status_code == 200
        receipt = erased.json()
        assert receipt["found"] and receipt["tables"] == {"events": 8}
        assert receipt["user"] == audit_target(ERASED_USER, settings.privacy)
        assert client.delete(path, headers=as_admin).json()["found"] is False

        bad = client.post("/v1/purge", json={"older_than": "a year"}, headers=as_admin)
        assert bad.status_code == 422 and "older_than" in bad.text
        purged = client.post("/v1/purge", json={"older_than": "3650d"}, headers=as_admin)
        assert purged.json()["tables"] == {"events": len(old)}

        log = client.get("/v1/audit-log", headers=as_admin).json()
        assert [(e["action"], e["outcome"]) for e in log] == [
            ("purge", "ok"), ("erase_user", "ok"), ("erase_user", "ok"),
        ]  # fmt: skip
        assert {e["actor"] for e in log} == {stored_admin.key_id}
        assert all(ERASED_USER not in str(e) for e in log)
        assert client.get("/v1/audit-log?limit=1", headers=as_admin).json() == log[:1]
