"""Scoring the assistant on a labelled question set (see benchmarks/assistant.py).

Each question carries its language, its intent, the items or FAQ entries a right answer cites
(`expected`, any of them counts; empty when no one source is right) and optionally a shopper.
A question labelled `handoff` should be handed to a person.

- intent accuracy: predicted intent = labelled intent, over all questions
- hit@k: one of the first k citations is expected, over questions with an expected source
  (a hand-off cites nothing, so it misses)
- hand-off precision: share of hand-offs that were labelled `handoff` (1.0 when none happened);
  hand-off recall: share of `handoff` questions handed off
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from tailor.assistant.ask import Answer
from tailor.assistant.intents import Intent


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    lang: str
    intent: Intent
    expected: frozenset[str]
    user_id: str | None


def load_questions(path: str | Path) -> list[LabelledQuestion]:
    """A TSV's questions: columns lang, intent, expected (ids joined by |), user_id, question."""
    with open(path, encoding="utf-8", newline="") as handle:
        return [
            LabelledQuestion(
                question=row["question"],
                lang=row["lang"],
                intent=Intent(row["intent"]),
                expected=frozenset(filter(None, row["expected"].split("|"))),
                user_id=row["user_id"] or None,
            )
            for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


def score(questions: list[LabelledQuestion], answers: list[Answer]) -> dict[str, float]:
    """intent_accuracy, hit_at_1, hit_at_3, handoff_precision and handoff_recall."""
    pairs = list(zip(questions, answers, strict=True))
    cited = [(q, [c.id for c in a.citations]) for q, a in pairs if q.expected]
    handed = [q.intent is Intent.handoff for q, a in pairs if a.handoff]
    wanted = [a.handoff for q, a in pairs if q.intent is Intent.handoff]
    return {
        "intent_accuracy": _share([a.intent is q.intent for q, a in pairs]),
        "hit_at_1": _share([bool(q.expected & set(ids[:1])) for q, ids in cited]),
        "hit_at_3": _share([bool(q.expected & set(ids[:3])) for q, ids in cited]),
        "handoff_precision": _share(handed) if handed else 1.0,
        "handoff_recall": _share(wanted),
    }


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0
