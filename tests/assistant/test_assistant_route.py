"""POST /v1/assistant/ask through the app: answers with citations, and 422s naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tailor.service import create_app
from tailor.service.routes.assistant import AnswerOut


@pytest.fixture(scope="module")
def client(assistant_shop, assistant):
    engine = assistant_shop[0]
    app = create_app(engine.settings, engine)
    app.state.assistant = assistant  # the session's, already fitted
    with TestClient(app) as client:
        yield client


def test_a_chinese_question_is_answered_from_the_chinese_faq(client):
    response = client.post("/v1/assistant/ask", json={"question": "退款多久能到账？"})
    assert response.status_code == 200, response.text
    body = AnswerOut.model_validate(response.json())
    assert (body.lang, body.intent, body.handoff) == ("zh", "returns", False)
    assert body.citations[0].id == "refund-time.zh" and body.citations[0].kind == "faq"
    assert "3个工作日" in body.answer


def test_a_product_answer_cites_items_for_a_shopper(client, assistant_shop):
    shop = assistant_shop[1]
    item = shop.items[~shop.items["hidden"]].iloc[1]
    response = client.post(
        "/v1/assistant/ask",
        json={
            "question": f"How much is the {item['attributes']['title_en']}?",
            "user_id": str(shop.users["user_id"].iloc[2]),
            "lang": "en",
        },
    )
    body = response.json()
    assert response.status_code == 200 and not body["handoff"]
    assert body["citations"][0] == {
        "kind": "item",
        "id": item["item_id"],
        "title": item["attributes"]["title_en"],
        "score": pytest.approx(body["citations"][0]["score"]),
    }


def test_a_hand_off_answer_says_so(client):
    body = client.post("/v1/assistant/ask", json={"question": "let me talk to a human"}).json()
    assert body["handoff"] is True and body["citations"] == []
    assert "colleague" in body["answer"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 501}, "question"),
        ({"question": "hi", "lang": "fr"}, "lang"),
        ({"question": "hi", "mood": "happy"}, "mood"),
        ({}, "question"),
    ],
)
def test_bad_requests_get_422_naming_the_field(client, payload, field):
    response = client.post("/v1/assistant/ask", json=payload)
    assert response.status_code == 422
    assert response.json()["field"] == field
