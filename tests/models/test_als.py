"""ALS solves user factors itself; they must be the ones implicit's own solver gives."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.models.als import ALS
from tailor.types import UserBatch

FACTORS = 8


@pytest.fixture(scope="module")
def model(clustered: Dataset) -> ALS:
    return ALS(factors=FACTORS, iterations=10, regularization=0.1, alpha=3.0, num_threads=1).fit(
        clustered
    )


def implicit_factors(model: ALS, users: UserBatch) -> np.ndarray:
    from implicit.cpu.als import AlternatingLeastSquares

    p = model.params
    solver = AlternatingLeastSquares(
        factors=p.factors, regularization=p.regularization, alpha=p.alpha, num_threads=1
    )
    solver.item_factors = model.item_factors_
    return solver.recalculate_user(np.arange(len(users)), model._history_matrix(users))


def test_user_factors_match_implicit_with_kind_weights(model: ALS, clustered: Dataset) -> None:
    users = clustered.user_batch(np.arange(clustered.n_users))
    lengths = np.diff(model._history_matrix(users).indptr)
    assert lengths.min() < FACTORS <= lengths.max()  # both solves are exercised
    ours = model.user_factors(users)
    np.testing.assert_allclose(ours, implicit_factors(model, users), rtol=1e-4, atol=1e-5)


def test_user_factors_match_implicit_for_any_history_length(model: ALS) -> None:
    rng = np.random.default_rng(3)
    n_items = model.item_factors_.shape[0]
    lengths = [0, 1, 2, FACTORS - 1, FACTORS, 3 * FACTORS, n_items]
    histories = [rng.integers(0, n_items, n) for n in lengths]
    histories.append(np.array([5, 5, 5, n_items + 4, -1]))  # repeats add up, unknown items drop
    users = UserBatch.of_histories(histories)
    ours = model.user_factors(users)
    np.testing.assert_allclose(ours, implicit_factors(model, users), rtol=1e-4, atol=1e-5)
    assert not ours[0].any()  # no history, no preference


def test_a_users_factor_does_not_depend_on_the_batch(model: ALS, clustered: Dataset) -> None:
    users = clustered.user_batch(np.arange(clustered.n_users))
    alone = clustered.user_batch([17])
    np.testing.assert_allclose(
        model.user_factors(users)[17], model.user_factors(alone)[0], atol=1e-6
    )


def test_loaded_model_scores_the_same(model: ALS, clustered: Dataset, tmp_path) -> None:
    model.save(tmp_path / "als")
    loaded = ALS.load(tmp_path / "als")
    users = clustered.user_batch(np.arange(20))
    np.testing.assert_array_equal(
        loaded.recommend(users, k=5).item_idx, model.recommend(users, k=5).item_idx
    )


def test_an_artifact_without_the_gram_matrix_still_loads(
    model: ALS, clustered: Dataset, tmp_path
) -> None:
    model.save(tmp_path / "als")
    arrays_file = tmp_path / "als" / "arrays.npz"
    with np.load(arrays_file) as npz:
        older = {k: npz[k] for k in npz.files if not k.startswith("gram")}
    np.savez(arrays_file, **older)
    loaded = ALS.load(tmp_path / "als")
    users = clustered.user_batch(np.arange(20))
    np.testing.assert_allclose(loaded.user_factors(users), model.user_factors(users), atol=1e-6)
