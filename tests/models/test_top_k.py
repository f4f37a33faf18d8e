import numpy as np
import pytest

from tailor.models.base import top_k


def test_ties_rank_by_ascending_item_index() -> None:
    scores = np.array([[1.0, 3.0, 3.0, 1.0, 3.0, 2.0]], dtype=np.float32)
    assert top_k(scores, 2).item_idx.tolist() == [[1, 2]]
    assert top_k(scores, 5).item_idx.tolist() == [[1, 2, 4, 5, 0]]
    assert top_k(scores, 5).scores.tolist() == [[3.0, 3.0, 3.0, 2.0, 1.0]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_a_stable_sort_on_heavily_tied_rows(dtype: type) -> None:
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 4, (300, 257)).astype(dtype)
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    scores[:, ::3] *= -1.0  # negative scores and -0.0, which ties with 0.0
    for k in (1, 10, 256):
        expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        recs = top_k(scores, k)
        wanted = np.take_along_axis(scores, expected, axis=1)
        np.testing.assert_array_equal(recs.scores, wanted)
        np.testing.assert_array_equal(recs.item_idx, np.where(np.isneginf(wanted), -1, expected))


def test_infinite_misses_are_padded_and_nan_ranks_last() -> None:
    scores = np.array([[-np.inf, 0.5, np.nan, np.inf]], dtype=np.float32)
    recs = top_k(scores, 6)
    assert recs.item_idx.tolist() == [[3, 1, -1, 2, -1, -1]]
    assert recs.scores[0, :2].tolist() == [np.inf, 0.5]
    assert np.isnan(recs.scores[0, 3]) and np.isneginf(recs.scores[0, [2, 4, 5]]).all()


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        top_k(np.zeros((1, 3), dtype=np.float32), 0)
