"""POST /v1/assistant/ask through the app: answers with citations, and 422s naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tailor.assistant import Assistant, import_faq
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service import create_app
from tailor.service.routes.assistant import AnswerOut
from tailor.settings import load_settings


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


def test_faq_entries_imported_while_serving_are_answered_at_once(client, assistant_shop, tmp_path):
    question = {"question": "Can I collect my order from a pickup locker?"}
    before = client.post("/v1/assistant/ask", json=question).json()
    assert "pickup.en" not in [c["id"] for c in before["citations"]]
    faq = tmp_path / "more.md"
    faq.write_text(
        "## Can I collect my order from a pickup locker? {#pickup.en}\n"
        "Yes: choose Pickup locker as the delivery method at checkout.\n",
        encoding="utf-8",
    )
    import_faq(assistant_shop[0].store, faq)
    after = client.post("/v1/assistant/ask", json=question).json()
    assert after["citations"][0]["id"] == "pickup.en" and not after["handoff"]
    assert "Pickup locker as the delivery method" in after["answer"]


@pytest.mark.postgres
def test_the_assistant_answers_from_a_postgresql_store(empty_postgres_url, demo_faq_path, tmp_path):
    settings = load_settings(
        None, store_url=empty_postgres_url, artifacts_dir=str(tmp_path / "artifacts")
    )
    shop = generate_shop(30, 24, days=7, seed=2)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        import_faq(engine.store, demo_faq_path)
        answer = Assistant(engine).ask("收到的商品坏了怎么办？")
    assert answer.citations[0].id == "damaged-item.zh" and not answer.handoff
