"""What a shopper wants: a logistic regression over the question's language-model vector plus
keyword cues, fitted at start-up on a small labelled set of seed utterances
(`data/intent_seeds.tsv`).

The seeds are kept apart from the evaluation questions (benchmarks/data/assistant_eval.tsv), so
the benchmark measures questions the classifier never saw.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Self

import numpy as np

from tailor.text import TextEncoder


class Intent(StrEnum):
    product_search = "product_search"
    product_question = "product_question"
    order_status = "order_status"
    returns = "returns"
    recommendation = "recommendation"
    handoff = "handoff"


# Words that mark an intent in either language; each hit adds one to that intent's cue feature.
CUES: dict[Intent, tuple[str, ...]] = {
    Intent.product_search: ("do you have", "looking for", "find", "search", "有没有", "有卖", "找"),
    Intent.product_question: (
        "how much",
        "price",
        "cost",
        "in stock",
        "sold out",
        "brand",
        "多少钱",
        "价格",
        "有货",
        "库存",
        "牌子",
        "卖完",
        "几件",
    ),
    Intent.order_status: (
        "order",
        "deliver",
        "shipping",
        "ship",
        "parcel",
        "package",
        "track",
        "arrive",
        "订单",
        "快递",
        "物流",
        "发货",
        "包裹",
        "配送",
        "送到",
        "运费",
        "邮费",
    ),
    Intent.returns: (
        "return",
        "refund",
        "exchange",
        "broken",
        "damaged",
        "faulty",
        "warranty",
        "退货",
        "退款",
        "换货",
        "坏",
        "质量问题",
        "保修",
        "退",
    ),
    Intent.recommendation: (
        "recommend",
        "suggest",
        "gift",
        "present",
        "best seller",
        "popular",
        "推荐",
        "送礼",
        "礼物",
        "适合",
        "卖得好",
    ),
    Intent.handoff: (
        "human",
        "person",
        "agent",
        "manager",
        "complain",
        "staff",
        "someone",
        "人工",
        "真人",
        "投诉",
        "经理",
        "客服电话",
        "工作人员",
    ),
}
CUE_WEIGHT = 0.5  # one cue hit against a unit-length text vector
SEEDS_FILE = "intent_seeds.tsv"


@dataclass(frozen=True)
class Seed:
    intent: Intent
    text: str


def load_seeds() -> list[Seed]:
    """The labelled seed utterances shipped with the package."""
    with resources.files("tailor.assistant.data").joinpath(SEEDS_FILE).open(encoding="utf-8") as f:
        return [
            Seed(Intent(row["intent"]), row["text"]) for row in csv.DictReader(f, delimiter="\t")
        ]


def cue_features(texts: list[str]) -> np.ndarray:
    """(n, n_intents) keyword hits per intent, scaled by CUE_WEIGHT."""
    lowered = [text.lower() for text in texts]
    return CUE_WEIGHT * np.array(
        [[sum(cue in text for cue in CUES[intent]) for intent in Intent] for text in lowered],
        dtype=np.float32,
    )


class IntentClassifier:
    """Multinomial logistic regression on [text vector, keyword cues]."""

    def __init__(self, encoder: TextEncoder, c: float = 4.0, random_state: int = 0) -> None:
        self.encoder = encoder
        self.c = c
        self.random_state = random_state

    def fit(self, seeds: list[Seed]) -> Self:
        from sklearn.linear_model import LogisticRegression

        texts = [seed.text for seed in seeds]
        features = self.features(self.encoder.encode(texts), texts)
        self.model_ = LogisticRegression(C=self.c, max_iter=2000, random_state=self.random_state)
        self.model_.fit(features, [seed.intent.value for seed in seeds])
        return self

    def features(self, vectors: np.ndarray, texts: list[str]) -> np.ndarray:
        return np.hstack([vectors, cue_features(texts)])

    def ranked(self, vector: np.ndarray, text: str) -> list[tuple[Intent, float]]:
        """Every intent of one question (given its text vector) with its probability, likeliest
        first."""
        probabilities = self.model_.predict_proba(self.features(vector.reshape(1, -1), [text]))[0]
        order = np.argsort(-probabilities, kind="stable")
        return [(Intent(self.model_.classes_[i]), float(probabilities[i])) for i in order]
