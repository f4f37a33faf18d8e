"""The benchmark's question set: big enough, labelled with known ids, apart from the classifier's
seeds; and the scores computed by hand on a tiny example."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tailor.assistant import Answer, Citation, Intent, read_faq
from tailor.assistant.evaluation import LabelledQuestion, load_questions, score
from tailor.assistant.intents import load_seeds
from tailor.ingest.synthetic import generate_shop

QUESTIONS = Path(__file__).parents[2] / "benchmarks" / "data" / "assistant_eval.tsv"


def normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@pytest.fixture(scope="module")
def questions() -> list[LabelledQuestion]:
    return load_questions(QUESTIONS)


def test_at_least_200_questions_in_both_languages_and_every_intent(questions):
    assert len(questions) >= 200
    for lang in ("zh", "en"):
        assert {q.intent for q in questions if q.lang == lang} == set(Intent)


def test_no_question_is_a_seed_of_the_classifier(questions):
    seeds = {normal(seed.text) for seed in load_seeds()}
    assert not [q.question for q in questions if normal(q.question) in seeds]


def test_expected_ids_are_items_of_the_benchmark_shop_or_demo_faq_entries(questions):
    items = generate_shop(300, 120, days=30, seed=7).items
    shown = set(items.loc[~items["hidden"], "item_id"])
    with resources.as_file(resources.files("tailor.assistant.data") / "demo_faq.md") as path:
        faq = {entry.faq_id: entry.lang for entry in read_faq(path).accepted}
    for q in questions:
        for expected in q.expected:
            assert expected in shown or faq.get(expected) == q.lang, (q.question, expected)


def answer(intent: Intent, handoff: bool, *ids: str) -> Answer:
    cited = [Citation("item", i, i, 1.0) for i in ids]
    return Answer("", "en", intent, 1.0, 1.0, handoff, cited)


def test_scores_by_hand():
    asked = [
        LabelledQuestion("a", "en", Intent.product_search, frozenset({"i1"}), None),
        LabelledQuestion("b", "en", Intent.returns, frozenset({"f1", "f2"}), None),
        LabelledQuestion("c", "en", Intent.handoff, frozenset(), None),
        LabelledQuestion("d", "zh", Intent.recommendation, frozenset(), None),
    ]
    answers = [
        answer(Intent.product_search, False, "i9", "i1"),  # hit@3 only
        answer(Intent.returns, False, "f2"),  # hit@1
        answer(Intent.handoff, True),  # a right hand-off
        answer(Intent.product_search, True),  # a wrong hand-off, wrong intent
    ]
    assert score(asked, answers) == {
        "intent_accuracy": 0.75,
        "hit_at_1": 0.5,
        "hit_at_3": 1.0,
        "handoff_precision": 0.5,
        "handoff_recall": 1.0,
    }
