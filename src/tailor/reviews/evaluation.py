"""Sentiment figures: accuracy and macro F1 against rating labels, beside the majority class."""

from __future__ import annotations

import numpy as np

from tailor.reviews.sentiment import SENTIMENTS


def sentiment_scores(truth: np.ndarray, predicted: np.ndarray, train_labels: np.ndarray) -> dict:
    """accuracy, macro F1 over the classes present in `truth`, and the same two figures for
    always answering the most common class of `train_labels`."""
    from sklearn.metrics import f1_score

    labels = np.unique(truth)
    majority = np.full(len(truth), np.bincount(train_labels, minlength=len(SENTIMENTS)).argmax())
    return {
        "n": len(truth),
        "accuracy": float(np.mean(truth == predicted)),
        "f1": float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        "majority_accuracy": float(np.mean(truth == majority)),
        "majority_f1": float(
            f1_score(truth, majority, labels=labels, average="macro", zero_division=0)
        ),
    }
