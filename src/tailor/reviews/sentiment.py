"""Review sentiment: multinomial logistic regression on sentence vectors, taught by star ratings.

Ratings are weak labels (a 5-star review may grumble about delivery), so the model learns what
the wording of satisfied and dissatisfied shoppers has in common, and a review's text can then
speak where its stars disagree. Saved as JSON params plus .npy arrays, never pickled.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tailor.errors import ArtifactError, NotFittedError

SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
NEGATIVE, NEUTRAL, POSITIVE = range(len(SENTIMENTS))
PARAMS_FILE = "sentiment.json"
WEIGHTS_FILE = "sentiment_weights.npy"
CLASSES_FILE = "sentiment_classes.npy"
PRIORS_FILE = "sentiment_priors.npy"


class SentimentParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    l2: float = Field(1.0, gt=0, description="inverse L2 strength (scikit-learn's C)")
    negative_max: float = Field(2.0, description="ratings up to this are negative")
    positive_min: float = Field(4.0, description="ratings from this up are positive")
    balanced: bool = Field(
        False, description="weigh classes inversely to their counts (trades accuracy for F1)"
    )
    random_state: int = 0


def rating_labels(ratings: np.ndarray, params: SentimentParams) -> np.ndarray:
    """Index into SENTIMENTS for each rating."""
    ratings = np.asarray(ratings, dtype=float)
    return np.where(
        ratings <= params.negative_max,
        NEGATIVE,
        np.where(ratings >= params.positive_min, POSITIVE, NEUTRAL),
    )


class SentimentModel:
    """P(negative, neutral, positive | text vector)."""

    Params: ClassVar[type[SentimentParams]] = SentimentParams

    def __init__(self, **params: object) -> None:
        self.params = SentimentParams(**params)
        self.classes_: np.ndarray | None = None  # SENTIMENTS indices the ratings showed
        self.weights_: np.ndarray | None = None  # (dim + 1, classes): coefficients, intercepts
        self.priors_: np.ndarray | None = None  # share of each class in the training labels

    def fit(self, vectors: np.ndarray, labels: np.ndarray) -> Self:
        from sklearn.linear_model import LogisticRegression

        present = np.unique(labels)
        if len(present) < 2:
            raise ValueError("sentiment needs reviews of at least two kinds of rating")
        model = LogisticRegression(
            C=self.params.l2,
            class_weight="balanced" if self.params.balanced else None,
            max_iter=1000,
            random_state=self.params.random_state,
        ).fit(vectors, labels)
        coef, intercept = model.coef_, model.intercept_
        if len(present) == 2:  # one logit for the second class; the first one's is 0
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.r_[0.0, intercept]
        self.classes_ = present
        self.priors_ = np.bincount(labels, minlength=len(SENTIMENTS)) / len(labels)
        self.weights_ = np.vstack([coef.T, intercept[None, :]])
        return self

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        """(n, 3) probabilities in SENTIMENTS order."""
        if self.weights_ is None:
            raise NotFittedError("the sentiment model is not fitted")
        logits = vectors @ self.weights_[:-1] + self.weights_[-1]
        odds = np.exp(logits - logits.max(axis=1, keepdims=True))
        proba = np.zeros((len(vectors), len(SENTIMENTS)))
        proba[:, self.classes_] = odds / odds.sum(axis=1, keepdims=True)
        return proba

    def predict(self, vectors: np.ndarray) -> np.ndarray:
        """The most probable class: right for whole reviews, which share the ratings' skew."""
        return self.predict_proba(vectors).argmax(axis=1)

    def predict_unskewed(self, vectors: np.ndarray) -> np.ndarray:
        """The class whose probability rose most over its share in training, for text judged on
        its own (a clause): mostly-5-star training would otherwise call every clause positive."""
        proba = self.predict_proba(vectors)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift = np.where(self.priors_ > 0, proba / self.priors_, -np.inf)
        return lift.argmax(axis=1)

    def save(self, folder: Path) -> None:
        if self.weights_ is None:
            raise NotFittedError("the sentiment model is not fitted")
        (folder / PARAMS_FILE).write_text(self.params.model_dump_json(), encoding="utf-8")
        np.save(folder / WEIGHTS_FILE, self.weights_)
        np.save(folder / CLASSES_FILE, self.classes_)
        np.save(folder / PRIORS_FILE, self.priors_)

    @classmethod
    def load(cls, folder: Path) -> SentimentModel:
        try:
            model = cls(**json.loads((folder / PARAMS_FILE).read_text(encoding="utf-8")))
            model.weights_ = np.load(folder / WEIGHTS_FILE, allow_pickle=False)
            model.classes_ = np.load(folder / CLASSES_FILE, allow_pickle=False)
            model.priors_ = np.load(folder / PRIORS_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"cannot read the sentiment model in {folder}: {exc}") from exc
        return model
