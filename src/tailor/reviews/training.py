"""`tailor train reviews`: the sentiment model from the stored reviews, measured, then saved.

The reviews with text and a rating are encoded once. A seeded `holdout_fraction` of them is held
out to measure the model (accuracy and macro F1 against the ratings, beside the majority class),
then the model is fitted on all of them and saved as a new version.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tailor import pointer
from tailor.errors import InvalidInputError
from tailor.reviews import artifact
from tailor.reviews.evaluation import sentiment_scores
from tailor.reviews.sentiment import SENTIMENTS, SentimentModel, SentimentParams, rating_labels
from tailor.settings import ReviewSettings, Settings
from tailor.store.base import Store
from tailor.text import TextEncoder, encoder

Progress = Callable[[str, int, int | None], None]
REVIEW_COLUMNS = ["item_id", "user_id", "ts", "value", "text"]


def stored_reviews(events: pd.DataFrame) -> pd.DataFrame:
    """Review events that carry a text, oldest first (the rating may be missing)."""
    reviews = events.loc[events["kind"] == "review", REVIEW_COLUMNS]
    text = reviews["text"].astype("string").str.strip()
    reviews = reviews.assign(text=text)[text.fillna("").str.len() > 0]
    return reviews.sort_values("ts", kind="stable").reset_index(drop=True)


def encode_unique(text_encoder: TextEncoder, texts: list[str]) -> np.ndarray:
    """Vectors of `texts`, each distinct text encoded once (many reviews say just "好评")."""
    distinct, inverse = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    return text_encoder.encode(distinct.tolist())[inverse]


def sentiment_params(settings: ReviewSettings) -> SentimentParams:
    try:
        return SentimentParams(**settings.sentiment)
    except ValueError as exc:
        raise InvalidInputError(f"reviews.sentiment is invalid: {exc}", field="sentiment") from exc


def fit_sentiment(
    vectors: np.ndarray, ratings: np.ndarray, params: SentimentParams
) -> SentimentModel:
    labels = rating_labels(ratings, params)
    if len(np.unique(labels)) < 2:
        raise InvalidInputError(
            "the reviews' ratings are all of one kind (negative, neutral or positive): "
            "nothing to tell apart",
            field="value",
        )
    return SentimentModel(**params.model_dump()).fit(vectors, labels)


def train_reviews(
    store: Store,
    settings: Settings,
    progress: Progress | None = None,
    text_encoder: TextEncoder | None = None,
) -> artifact.ReviewModelVersion:
    """Fit, measure and save a new review model version from every stored rated review."""
    config = settings.reviews
    params = sentiment_params(config)
    reviews = stored_reviews(store.events())
    rated = reviews[reviews["value"].notna()]
    if len(rated) < config.min_reviews:
        raise InvalidInputError(
            f"{len(rated)} rated reviews with text are stored; reviews.min_reviews is "
            f"{config.min_reviews}",
            field="reviews",
        )
    text_encoder = text_encoder or encoder(config.text_encoder)
    if progress:
        progress(f"encoding {len(rated):,} reviews", 0, 2)
    vectors = encode_unique(text_encoder, rated["text"].tolist())
    ratings = rated["value"].to_numpy(dtype=float)
    if progress:
        progress("fitting review sentiment", 1, 2)
    metrics = _holdout_metrics(vectors, ratings, params, config.holdout_fraction)
    labels = rating_labels(ratings, params)
    trained = artifact.ReviewModelVersion(
        version=pointer.new_version(),
        text_encoder=text_encoder.name,
        sentiment=fit_sentiment(vectors, ratings, params),
        n_reviews=len(rated),
        label_counts={s: int((labels == k).sum()) for k, s in enumerate(SENTIMENTS)},
        metrics=metrics,
    )
    artifact.save(trained, settings.artifacts_dir)
    return trained


def _holdout_metrics(
    vectors: np.ndarray, ratings: np.ndarray, params: SentimentParams, fraction: float
) -> dict:
    """Figures on a seeded random share of the reviews, the model fitted on the rest."""
    held = np.random.default_rng(params.random_state).random(len(ratings)) < fraction
    train_labels = rating_labels(ratings[~held], params)
    if not held.any() or len(np.unique(train_labels)) < 2:
        return {}
    model = fit_sentiment(vectors[~held], ratings[~held], params)
    truth = rating_labels(ratings[held], params)
    return {
        "protocol": f"random {fraction:.0%} of the rated reviews held out, labels from ratings",
        **sentiment_scores(truth, model.predict(vectors[held]), train_labels),
    }
