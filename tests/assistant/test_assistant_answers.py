"""Answers: intents, citations, Chinese paths, personalisation, hand-off, the composer seam."""

from __future__ import annotations

import time

import pytest
from assistant_setup import shop_settings

from tailor.assistant import Assistant, Composer, Facts, Intent
from tailor.assistant.catalogue import price_cap
from tailor.assistant.lang import detect_lang
from tailor.engine import Engine
from tailor.errors import InvalidInputError


def visible_item(shop, n: int = 0) -> dict:
    shown = shop.items[~shop.items["hidden"] & (shop.items["stock"] > 0)]
    return shown.iloc[n].to_dict()


def test_a_chinese_returns_question_gets_the_chinese_faq_answer(assistant):
    answer = assistant.ask("退货的话运费是谁来付？")
    assert (answer.lang, answer.intent, answer.handoff) == ("zh", Intent.returns, False)
    assert answer.citations[0].id == "return-shipping.zh"
    assert "8元" in answer.text


def test_an_english_delivery_question_cites_the_english_entry(assistant):
    answer = assistant.ask("how many days until my parcel is delivered?")
    assert answer.intent is Intent.order_status
    assert answer.citations[0].id == "delivery-time.en"
    assert answer.citations[0].kind == "faq"


def test_a_chinese_product_question_finds_and_cites_the_item(assistant, assistant_shop):
    item = visible_item(assistant_shop[1])
    answer = assistant.ask(f"{item['attributes']['title_zh']}多少钱？")
    assert answer.intent is Intent.product_question and not answer.handoff
    assert answer.citations[0].id == item["item_id"]
    assert f"{item['price']:g}元" in answer.text


def test_a_chinese_search_lists_items_of_the_category(assistant, assistant_shop):
    item = visible_item(assistant_shop[1], 3)
    leaf_zh = item["category"].split("/")[-1].split(" ")[0]
    answer = assistant.ask(f"你们有没有卖{leaf_zh}的")
    assert answer.intent is Intent.product_search and not answer.handoff
    cited = assistant_shop[1].items.set_index("item_id").loc[[c.id for c in answer.citations]]
    assert (cited["category"] == item["category"]).any()
    assert all(c.kind == "item" for c in answer.citations)


def test_asking_for_a_person_hands_off_and_says_so(assistant):
    answer = assistant.ask("我要转人工客服")
    assert answer.handoff and answer.intent is Intent.handoff
    assert "人工客服" in answer.text and answer.citations == []


def test_below_the_threshold_the_answer_hands_off(assistant_shop, tmp_path):
    engine, _ = assistant_shop
    strict = shop_settings(tmp_path, assistant={"handoff_below": 0.99})
    with Engine(strict, store=engine.store) as cautious:
        answer = Assistant(cautious).ask("when is the last day I can send back what I bought")
    assert answer.handoff and answer.confidence < 0.99
    assert "colleague" in answer.text and answer.citations == []


def test_an_unrelated_question_hands_off(assistant):
    answer = assistant.ask("what's the capital of Peru")
    assert answer.handoff


def test_a_known_shopper_asking_for_recommendations_gets_the_engines_items(
    assistant, assistant_shop
):
    engine, shop = assistant_shop
    user = str(shop.users["user_id"].iloc[0])
    answer = assistant.ask("给我推荐点东西吧", user_id=user)
    assert answer.intent is Intent.recommendation and not answer.handoff
    expected = [r.item_id for r in engine.recommend(user, 3)]
    assert [c.id for c in answer.citations] == expected


def test_a_delivery_question_of_a_buyer_names_their_latest_order(assistant, assistant_shop):
    events = assistant_shop[1].events
    buyer = str(events[events["kind"] == "purchase"]["user_id"].iloc[0])
    answer = assistant.ask("where is my order?", user_id=buyer, lang="en")
    assert answer.intent is Intent.order_status
    assert "Your latest order is" in answer.text
    assert {c.kind for c in answer.citations} == {"faq", "item"}


def test_lang_overrides_the_question_language(assistant):
    answer = assistant.ask("退货运费谁出", lang="en")
    assert answer.lang == "en" and answer.citations[0].id == "return-shipping.en"


@pytest.mark.parametrize(
    ("question", "lang", "field"),
    [("   ", None, "question"), ("x" * 501, None, "question"), ("hi", "fr", "lang")],
)
def test_bad_input_names_the_field(assistant, question, lang, field):
    with pytest.raises(InvalidInputError) as caught:
        assistant.ask(question, lang=lang)
    assert caught.value.field == field


def test_a_composer_receives_only_the_retrieved_facts(assistant_shop):
    seen: list[Facts] = []

    class Recording(Composer):
        def compose(self, facts: Facts) -> str:
            seen.append(facts)
            return "composed"

    answer = Assistant(assistant_shop[0], Recording()).ask("Who pays for return shipping?")
    assert answer.text == "composed"
    assert [entry.faq_id for entry in seen[0].faq] == [c.id for c in answer.citations]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("退货运费谁出", "zh"),
        ("这个 phone case 多少钱", "zh"),
        ("Is the 星河 case in stock?", "en"),
    ],
)
def test_language_detection(text, lang):
    assert detect_lang(text) == lang


@pytest.mark.parametrize(
    ("text", "cap"),
    [
        ("chocolate under 50 yuan", 50.0),
        ("100元以下的坚果", 100.0),
        ("不超过80的充电器", 80.0),
        ("any tea?", None),
    ],
)
def test_price_caps_are_read_from_the_question(text, cap):
    assert price_cap(text) == cap


def test_a_new_item_is_found_once_the_catalogue_index_refreshes(assistant_shop, tmp_path):
    engine, _ = assistant_shop
    eager = shop_settings(tmp_path, assistant={"refresh_seconds": 0})
    with Engine(eager, store=engine.store) as fresh_engine:
        fresh = Assistant(fresh_engine)
        question = "do you sell the Zephyro quantum telescope?"
        assert "z1" not in [c.id for c in fresh.ask(question).citations]
        fresh_engine.put_items(
            [{"item_id": "z1", "title": "泽菲罗量子望远镜 Zephyro Quantum telescope", "price": 999}]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if "z1" in [c.id for c in fresh.ask(question).citations]:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the new item never reached the assistant's index")


def test_an_unsure_hand_off_intent_falls_back_to_the_runner_up(assistant_shop, tmp_path):
    engine, _ = assistant_shop
    never = shop_settings(tmp_path, assistant={"handoff_intent_min": 1.0})
    with Engine(never, store=engine.store) as answering:
        answer = Assistant(answering).ask("我要转人工客服")
    assert answer.intent is not Intent.handoff and answer.intent_probability < 0.5
