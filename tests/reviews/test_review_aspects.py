"""Clauses and aspects on hand-written Chinese and English sentences with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.reviews.aspects import ASPECT_NAMES, ASPECTS, AspectSpace, clauses, lexicon_aspects


def test_reviews_split_into_clauses_at_punctuation_and_contrast():
    assert clauses("质量很好，但是物流太慢了。") == ["质量很好", "物流太慢了"]
    assert clauses("做工不错不过有点贵！客服很好") == ["做工不错", "有点贵", "客服很好"]
    assert clauses("Great quality but delivery was slow.") == ["Great quality", "delivery was slow"]
    assert clauses("Fits well; however, the box was crushed!!") == [
        "Fits well",
        "the box was crushed",
    ]
    assert clauses(" 。, ") == []


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("衣服尺码偏大", ["size"]),
        ("快递三天才送达", ["delivery"]),
        ("客服回复很及时", ["service"]),
        ("这个价格很便宜", ["price"]),
        ("外包装有点压坏了", ["packaging"]),
        ("做工很精致", ["quality"]),
        ("质量好，价格也实惠", ["quality", "price"]),
        ("颜色很好看", []),
        ("The shoes run small", ["size"]),
        ("Shipping took forever", ["delivery"]),
        ("Way too expensive", ["price"]),
        ("The box was dented", ["packaging"]),
        ("Support never replied to my refund request", ["service"]),
        ("Sturdy and durable", ["quality"]),
        ("I love the colour", []),
    ],
)
def test_lexicon_names_the_aspects_of_a_clause(clause, expected):
    assert lexicon_aspects(clause) == expected


def test_english_keywords_match_at_word_starts_only():
    assert lexicon_aspects("it arrived in a shipment") == ["delivery"]
    assert lexicon_aspects("a relationship worth keeping") == ["price"]  # "worth", not "ship"
    assert lexicon_aspects("outfitted nicely") == []  # "fit" inside a word is not size


class _PrototypeEncoder:
    """Each aspect's prototype sentences encode to that aspect's own axis."""

    name, dim = "prototype-axes", len(ASPECT_NAMES)

    def encode(self, texts, batch_size=64, progress=False):
        axis = {p: k for k, a in enumerate(ASPECTS.values()) for p in a.prototypes}
        return np.eye(self.dim, dtype=np.float32)[[axis[t] for t in texts]]


def test_vector_fallback_places_clauses_the_lexicon_misses_when_near_enough():
    space = AspectSpace(_PrototypeEncoder(), min_cosine=0.6)
    delivery = ASPECT_NAMES.index("delivery")
    near = np.zeros(len(ASPECT_NAMES))
    near[delivery] = 0.8
    far = np.full(len(ASPECT_NAMES), 0.3)
    found = space.aspects(["等了整整一周", "颜色很好看", "质量很好"], np.stack([near, far, near]))
    assert found == [["delivery"], [], ["quality"]]  # the lexicon wins where it speaks
