"""Offline evaluation: metrics (pure functions), full-catalogue ranking and benchmark reports."""

from tailor.evaluation.offline import evaluate, rank, ranking_metrics

__all__ = ["evaluate", "rank", "ranking_metrics"]
