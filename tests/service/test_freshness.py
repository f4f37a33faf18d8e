"""Freshness through the HTTP app: a posted event changes that user's next answer within 1 s,
with no retraining (the model version and the artifacts stay as they were)."""

from __future__ import annotations

import time

FRESH_SECONDS = 1.0


def recommendations(client, user: str) -> dict:
    answer = client.get(f"/v1/users/{user}/recommendations", params={"k": 10})
    assert answer.status_code == 200, answer.text
    return answer.json()


def post(client, event: dict) -> None:
    answer = client.post("/v1/events", json=event)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text


def artifact_versions(settings) -> list[str]:
    return sorted(p.name for p in settings.artifacts_dir.iterdir() if p.is_dir())


def test_a_new_users_first_view_makes_the_next_answer_personal(client, settings, shop):
    before = recommendations(client, "walk-in")
    assert {i["source"] for i in before["items"]} == {"popular"}
    versions = artifact_versions(settings)
    viewed = str(shop.items["item_id"].iloc[7])
    start = time.perf_counter()
    post(client, {"user_id": "walk-in", "item_id": viewed, "kind": "view"})
    after = recommendations(client, "walk-in")
    seconds = time.perf_counter() - start
    assert seconds <= FRESH_SECONDS
    assert after["model_version"] == before["model_version"]
    assert artifact_versions(settings) == versions
    assert viewed not in [i["item_id"] for i in after["items"]]  # seen: left out
    anchors = [i["explanation"]["anchor_item_id"] for i in after["items"]]
    assert viewed in anchors  # the models scored from the event just posted


def test_a_known_users_event_changes_the_next_answer(client, shop):
    user = str(shop.events["user_id"].value_counts().index[0])
    before = recommendations(client, user)
    top = before["items"][0]["item_id"]
    start = time.perf_counter()
    post(client, {"user_id": user, "item_id": top, "kind": "cart"})
    after = recommendations(client, user)
    assert time.perf_counter() - start <= FRESH_SECONDS
    assert after["model_version"] == before["model_version"]
    assert [i["item_id"] for i in after["items"]] != [i["item_id"] for i in before["items"]]
    assert top not in [i["item_id"] for i in after["items"]]


def test_a_dislike_takes_the_item_out_of_the_next_answer(client, shop):
    user = str(shop.events["user_id"].value_counts().index[1])
    shown = [i["item_id"] for i in recommendations(client, user)["items"]]
    post(client, {"user_id": user, "item_id": shown[3], "kind": "dislike"})
    assert shown[3] not in [i["item_id"] for i in recommendations(client, user)["items"]]
