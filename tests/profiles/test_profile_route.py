"""GET /v1/users/{user_id}/profile through the HTTP app."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service import create_app
from tailor.settings import load_settings


def test_profile_route_answers_in_both_languages_and_names_bad_fields(tmp_path):
    settings = load_settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        artifacts_dir=tmp_path / "a",
        service={"auth": False},
    )
    shop = generate_shop(30, 40, days=10, seed=2)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        user = str(shop.events["user_id"].iloc[0])
        at = int(shop.events["ts"].max())
        with TestClient(create_app(settings, engine)) as client:
            zh = client.get(f"/v1/users/{user}/profile", params={"lang": "zh", "at": at})
            assert zh.status_code == 200 and zh.json()["lang"] == "zh"
            assert zh.json()["summary"].endswith("。")
            en = client.get(
                f"/v1/users/{user}/profile",
                params={"at": at, "vector": True},
                headers={"Accept-Language": "en-GB,en;q=0.8"},
            )
            assert en.status_code == 200 and en.json()["lang"] == "en"
            assert len(en.json()["interest"]["vector"]) == 512
            assert en.json()["activity"]["events"] == int((shop.events["user_id"] == user).sum())
            missing = client.get("/v1/users/nobody/profile")
            assert missing.status_code == 404 and missing.json()["error"] == "UnknownUserError"
            bad = client.get(f"/v1/users/{user}/profile", params={"lang": "fr"})
            assert bad.status_code == 422 and bad.json()["field"] == "lang"
            negative = client.get(f"/v1/users/{user}/profile", params={"at": -1})
            assert negative.status_code == 422 and negative.json()["field"] == "at"
