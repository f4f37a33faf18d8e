"""Metrics against values computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.evaluation import metrics

RECS = np.array([[3, 1, 4, 5], [9, 8, 7, -1], [2, 6, 0, 1]])
TARGETS = [np.array([1, 5]), np.array([7]), np.array([11])]
N = metrics.target_counts(TARGETS)
HITS = metrics.hit_matrix(RECS, TARGETS)


def test_hit_matrix() -> None:
    expected = [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 0]]
    np.testing.assert_array_equal(HITS, np.array(expected, dtype=bool))
    # padding never hits, even if -1 were a "target"
    assert not metrics.hit_matrix(np.array([[-1, -1]]), [np.array([-1])]).any()


def test_recall_and_hit_rate() -> None:
    np.testing.assert_allclose(metrics.recall_at_k(HITS, N, 2), [0.5, 0.0, 0.0])
    np.testing.assert_allclose(metrics.recall_at_k(HITS, N, 4), [1.0, 1.0, 0.0])
    np.testing.assert_allclose(metrics.hit_rate(HITS, 2), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(metrics.hit_rate(HITS, 3), [1.0, 1.0, 0.0])


def test_ndcg() -> None:
    # user 0: hits at ranks 2 and 4, ideal = ranks 1 and 2
    dcg0 = 1 / np.log2(3) + 1 / np.log2(5)
    idcg0 = 1 + 1 / np.log2(3)
    # user 1: one hit at rank 3, ideal rank 1
    expected = [dcg0 / idcg0, 1 / np.log2(4), 0.0]
    np.testing.assert_allclose(metrics.ndcg_at_k(HITS, N, 4), expected)
    # at k=2 user 0 has one hit at rank 2; the ideal still holds 2 hits
    np.testing.assert_allclose(metrics.ndcg_at_k(HITS, N, 2)[0], (1 / np.log2(3)) / idcg0)


def test_mrr() -> None:
    np.testing.assert_allclose(metrics.mrr(HITS), [0.5, 1 / 3, 0.0])


def test_coverage() -> None:
    assert metrics.catalogue_coverage(RECS, 20) == pytest.approx(10 / 20)  # 0..9, padding ignored


def test_novelty() -> None:
    counts = np.array([3, 1, 0, 7])  # 9 users
    recs = np.array([[0, 1], [2, -1]])
    p = (counts + 1) / 10
    expected = [(-np.log2(p[0]) - np.log2(p[1])) / 2, -np.log2(p[2])]
    np.testing.assert_allclose(metrics.novelty(recs, counts, n_users=9), expected)


def test_intra_list_diversity() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    recs = np.array([[0, 1, 2], [0, -1, -1]])
    cos02 = 1 / np.sqrt(2)
    # pairs (0,1): distance 1; (0,2) and (1,2): 1 - 1/sqrt(2)
    expected0 = (1 + 2 * (1 - cos02)) / 3
    np.testing.assert_allclose(
        metrics.intra_list_diversity(recs, item_vectors=vectors), [expected0, 0.0]
    )
    cats = np.array([0, 0, 1])
    np.testing.assert_allclose(
        metrics.intra_list_diversity(recs, item_categories=cats), [2 / 3, 0.0]
    )
    with pytest.raises(ValueError):
        metrics.intra_list_diversity(recs)
