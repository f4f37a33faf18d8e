"""What a review talks about: clauses, and the aspects (quality, size, delivery, ...) each names.

A review is cut into clauses at punctuation and at contrast words ("但是", "but"), so "quality is
great but delivery was slow" gives two clauses, each with its own polarity. A clause's aspects come
from a lexicon of everyday shop vocabulary: Chinese keywords match as substrings (aspect words are
whole words here, so no segmenter is needed), English ones as word prefixes ("ship" matches
"shipped", "shipping"). A clause the lexicon misses may still be placed by `AspectSpace`, by the
cosine of its sentence vector to each aspect's prototype sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from tailor.text import TextEncoder


@dataclass(frozen=True)
class Aspect:
    zh: str  # label shown in Chinese
    en: str  # label shown in English
    zh_words: tuple[str, ...]
    en_words: tuple[str, ...]  # prefixes of lower-case words
    prototypes: tuple[str, ...]  # sentences about the aspect, for the vector fallback


ASPECTS: dict[str, Aspect] = {
    "quality": Aspect(
        "质量",
        "quality",
        (
            "质量",
            "品质",
            "做工",
            "材质",
            "用料",
            "质感",
            "结实",
            "耐用",
            "就坏",
            "用坏",
            "易坏",
            "次品",
            "掉色",
        ),
        (
            "quality",
            "workmanship",
            "craftsmanship",
            "material",
            "sturd",
            "flims",
            "broke",
            "shoddy",
            "durab",
            "well made",
            "badly made",
        ),
        (
            "质量很好，做工扎实",
            "质量差，容易坏",
            "the quality is good and solid",
            "poorly made, fell apart",
        ),
    ),
    "size": Aspect(
        "尺码",
        "size",
        ("尺码", "尺寸", "大小", "合身", "偏大", "偏小", "码数", "太大", "太小"),
        ("size", "sizing", "fit", "small", "big", "large", "tight", "loose", "dimension"),
        ("尺码合适，大小刚好", "尺码偏大不合身", "the size fits well", "too small, wrong size"),
    ),
    "delivery": Aspect(
        "物流",
        "delivery",
        ("物流", "快递", "发货", "配送", "送达", "到货", "送错", "到了"),
        ("deliver", "ship", "arriv", "courier", "parcel", "dispatch", "transit"),
        ("物流很快，第二天到货", "快递太慢了", "delivery was fast", "shipping took weeks"),
    ),
    "price": Aspect(
        "价格",
        "price",
        ("价格", "价钱", "性价比", "划算", "便宜", "贵", "降价", "不值", "实惠"),
        (
            "price",
            "pric",
            "value for money",
            "expensive",
            "overpriced",
            "bargain",
            "cost",
            "worth",
            "penny",
            "on sale",
            "poor value",
        ),
        ("价格便宜，性价比高", "太贵了不值", "good value for the price", "too expensive"),
    ),
    "packaging": Aspect(
        "包装",
        "packaging",
        ("包装", "盒子", "外盒", "封口", "包裹", "破损", "漏"),
        ("packag", "packed", "box", "wrap", "seal", "leak"),
        ("包装很好，没有破损", "包装破了，盒子压坏", "nicely packaged box", "the box was damaged"),
    ),
    "service": Aspect(
        "服务",
        "service",
        ("客服", "卖家", "店家", "商家", "售后", "服务", "回复", "退货", "退款", "态度"),
        (
            "service",
            "support",
            "seller",
            "staff",
            "repl",
            "return",
            "refund",
            "answer",
            "rude",
            "helpful",
        ),
        (
            "客服态度好，回复及时",
            "卖家不理人",
            "customer service was helpful",
            "the seller ignored me",
        ),
    ),
}
ASPECT_NAMES: tuple[str, ...] = tuple(ASPECTS)

_CLAUSE_BREAK = re.compile(
    r"[，,。.!！?？;；\n]+|但是|不过|可是|\bbut\b|\bhowever\b", re.IGNORECASE
)
_EN_WORDS = {
    name: re.compile("|".join(rf"\b{re.escape(w)}" for w in aspect.en_words), re.IGNORECASE)
    for name, aspect in ASPECTS.items()
}


def clauses(text: str) -> list[str]:
    """The review's clauses, stripped, empty ones dropped."""
    return [part.strip() for part in _CLAUSE_BREAK.split(text) if part and part.strip()]


def lexicon_aspects(clause: str) -> list[str]:
    """Aspects whose keywords occur in the clause, in ASPECTS order."""
    return [
        name
        for name, aspect in ASPECTS.items()
        if any(word in clause for word in aspect.zh_words) or _EN_WORDS[name].search(clause)
    ]


class AspectSpace:
    """Aspect prototypes as sentence vectors; places a clause the lexicon misses when its vector
    is within `min_cosine` of an aspect's nearest prototype."""

    def __init__(self, text_encoder: TextEncoder, min_cosine: float, lexicon: bool = True) -> None:
        prototypes = [(name, p) for name, a in ASPECTS.items() for p in a.prototypes]
        self.names_ = np.array([name for name, _ in prototypes])
        self.vectors_ = text_encoder.encode([p for _, p in prototypes])
        self.min_cosine = min_cosine
        self.lexicon = lexicon  # False: vectors alone (to measure them)

    def aspects(self, clause_texts: list[str], clause_vectors: np.ndarray) -> list[list[str]]:
        """Per clause: its lexicon aspects, else the nearest prototype's aspect if near enough."""
        found = [lexicon_aspects(text) if self.lexicon else [] for text in clause_texts]
        if not len(clause_texts):
            return found
        cosine = clause_vectors @ self.vectors_.T
        nearest = cosine.argmax(axis=1)
        near = cosine[np.arange(len(clause_texts)), nearest] >= self.min_cosine
        return [
            names or ([str(self.names_[best])] if close else [])
            for names, best, close in zip(found, nearest, near)
        ]
