"""Review texts of the synthetic shop, composed from aspect phrasings (`shop_words.REVIEWS`).

A review has one to three clauses, each about a different aspect (or about the item overall). The
star rating sets the review's tone, and the tone the polarity of each clause, loosely: a 4-star
review may still complain about delivery, and a share of reviews ignore their rating altogether
(`DISAGREE_SHARE`), so ratings are noisy labels of the text, as in a real shop. A quarter of the
reviews (`HELD_OUT_SHARE`) are written with held-out phrasings only, the last of each list in
`REVIEWS`; `held_out_phrasings` tells them apart by their text. Everything is drawn with numpy
over all reviews at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.ingest.shop_words import POLARITIES, REVIEWS

ASPECTS: tuple[str, ...] = tuple(REVIEWS)  # "overall" included: a clause about no one aspect
HELD_OUT_SHARE = 0.25
DISAGREE_SHARE = 0.12
MAX_CLAUSES = 3
CLAUSE_COUNT_P = (0.35, 0.4, 0.25)
NEGATIVE, NEUTRAL, POSITIVE = range(len(POLARITIES))
# P(clause polarity | review tone); rows and columns in POLARITIES order.
POLARITY_GIVEN_TONE = np.array([[0.78, 0.12, 0.10], [0.30, 0.40, 0.30], [0.08, 0.12, 0.80]])
CONTRAST = {"zh": "，但是", "en": " but "}
COMMA = {"zh": "，", "en": ", "}
STOP = {"zh": "。", "en": "."}


@dataclass(frozen=True)
class PhraseBank:
    """`REVIEWS` flattened: phrasing p of (aspect a, polarity q, held out h) is
    `first[a, q, h] + k` for `k < count[a, q, h]`."""

    zh: np.ndarray  # object strings
    en: np.ndarray
    held_out: np.ndarray  # bool per phrasing
    first: np.ndarray  # (aspects, polarities, 2)
    count: np.ndarray

    @classmethod
    def build(cls) -> PhraseBank:
        pairs: list[tuple[str, str]] = []
        held: list[bool] = []
        first = np.zeros((len(ASPECTS), len(POLARITIES), 2), dtype=np.int64)
        count = np.zeros_like(first)
        for a, aspect in enumerate(ASPECTS):
            for q, polarity in enumerate(POLARITIES):
                phrasings = REVIEWS[aspect][polarity]
                first[a, q] = len(pairs), len(pairs) + len(phrasings) - 1
                count[a, q] = len(phrasings) - 1, 1
                pairs.extend(phrasings)
                held.extend([False] * (len(phrasings) - 1) + [True])
        zh, en = (np.array([p[k] for p in pairs], dtype=object) for k in (0, 1))
        return cls(zh=zh, en=en, held_out=np.array(held), first=first, count=count)


@dataclass(frozen=True)
class ComposedReviews:
    text: np.ndarray  # object strings, in each review's language
    aspect: np.ndarray  # (n, MAX_CLAUSES) index into ASPECTS, -1 past the last clause
    polarity: np.ndarray  # (n, MAX_CLAUSES) index into POLARITIES, -1 past the last clause
    held_out: np.ndarray  # written with held-out phrasings only


def tone_of_rating(rating: np.ndarray) -> np.ndarray:
    """1-2 stars negative, 3 neutral, 4-5 positive (indices into POLARITIES)."""
    rating = np.asarray(rating, dtype=float)
    return np.where(rating <= 2, NEGATIVE, np.where(rating < 4, NEUTRAL, POSITIVE))


def compose_reviews(
    rng: np.random.Generator, rating: np.ndarray, english: np.ndarray
) -> ComposedReviews:
    """A review text for each rating, in English where `english` is 1, else in Chinese."""
    bank = PhraseBank.build()
    n = len(rating)
    tone = tone_of_rating(rating)
    disagree = rng.random(n) < DISAGREE_SHARE
    tone[disagree] = rng.integers(0, len(POLARITIES), disagree.sum())
    n_clauses = 1 + rng.choice(MAX_CLAUSES, n, p=CLAUSE_COUNT_P)
    present = np.arange(MAX_CLAUSES)[None, :] < n_clauses[:, None]
    aspect = np.argsort(rng.random((n, len(ASPECTS))), axis=1)[:, :MAX_CLAUSES]
    cumulative = np.cumsum(POLARITY_GIVEN_TONE[tone], axis=1)
    polarity = (rng.random((n, MAX_CLAUSES, 1)) > cumulative[:, None, :-1]).sum(axis=2)
    held_out = rng.random(n) < HELD_OUT_SHARE
    cell = (aspect, polarity, held_out[:, None].astype(np.int64))
    phrasing = bank.first[cell] + (rng.random((n, MAX_CLAUSES)) * bank.count[cell]).astype(int)
    text = np.where(
        np.asarray(english) == 1,
        _join(bank.en[phrasing], polarity, present, "en"),
        _join(bank.zh[phrasing], polarity, present, "zh"),
    )
    return ComposedReviews(
        text=text,
        aspect=np.where(present, aspect, -1),
        polarity=np.where(present, polarity, -1),
        held_out=held_out,
    )


def _join(clauses: np.ndarray, polarity: np.ndarray, present: np.ndarray, lang: str) -> np.ndarray:
    """Clauses joined with a comma, or with "but" where the polarity turns around."""
    text = clauses[:, 0].copy()
    for j in range(1, MAX_CLAUSES):
        turns = np.abs(polarity[:, j] - polarity[:, j - 1]) == 2
        joiner = np.where(turns, CONTRAST[lang], COMMA[lang])
        text = np.where(present[:, j], text + joiner + clauses[:, j], text)
    if lang == "en":
        series = pd.Series(text, dtype=object)
        text = (series.str[:1].str.upper() + series.str[1:]).to_numpy(dtype=object)
    return text + STOP[lang]


def held_out_phrasings(texts: np.ndarray | list[str]) -> np.ndarray:
    """Which texts were written with held-out phrasings (no phrasing contains another)."""
    bank = PhraseBank.build()
    phrasings = [*bank.zh[bank.held_out], *bank.en[bank.held_out]]
    pattern = "|".join(re.escape(p) for p in phrasings)
    found = pd.Series(list(texts), dtype=object).str.contains(pattern, case=False, regex=True)
    return found.fillna(False).to_numpy(dtype=bool)
