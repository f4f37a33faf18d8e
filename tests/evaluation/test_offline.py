from __future__ import annotations

import json

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.data.splits import EvalSet
from tailor.evaluation import evaluate, rank, ranking_metrics
from tailor.evaluation.report import mean_std, peak_rss_mb, rss_mb, write_json
from tailor.models.base import Recommender
from tailor.types import UserBatch


class _Fixed(Recommender):
    """Scores item i as -i for every user: the ranking is 0, 1, 2, ... minus the history."""

    name = "fixed"

    def _fit(self, data: Dataset) -> None:
        self.scores_ = -np.arange(data.n_items, dtype=np.float32)

    def _score(self, users: UserBatch) -> np.ndarray:
        return np.tile(self.scores_, (len(users), 1))


@pytest.fixture
def model() -> _Fixed:
    data = Dataset.from_sequences({"u": [str(i) for i in range(12)]})
    return _Fixed().fit(data)


def test_rank_is_batch_size_independent(model: _Fixed) -> None:
    rng = np.random.default_rng(1)
    users = UserBatch.of_histories([rng.choice(12, size=3, replace=False) for _ in range(9)])
    whole = rank(model, users, 5, batch_size=100)
    np.testing.assert_array_equal(whole, rank(model, users, 5, batch_size=2))
    for row, history in zip(whole, users.histories, strict=True):
        assert not set(row) & set(history.tolist())
    assert rank(model, users, 20).shape == (9, 20) and (rank(model, users, 20)[:, 9:] == -1).all()


def test_evaluate_by_hand(model: _Fixed) -> None:
    users = UserBatch.of_histories([[0], [5]])
    eval_set = EvalSet(users, [np.array([2]), np.array([0])])
    # user 0 sees 1, 2, 3, ... (target 2 at rank 2); user 1 sees 0, 1, ... (target 0 at rank 1)
    masked = evaluate(model, eval_set, ks=(1, 2))
    assert masked["recall_at_1"] == pytest.approx(0.5)
    assert masked["recall_at_2"] == pytest.approx(1.0)
    assert masked["ndcg_at_2"] == pytest.approx((1 / np.log2(3) + 1) / 2)
    assert masked["mrr_at_2"] == pytest.approx((0.5 + 1) / 2)
    unmasked = evaluate(model, eval_set, ks=(1, 2), exclude_seen=False)
    assert unmasked["recall_at_2"] == pytest.approx(0.5)  # user 0 sees 0, 1: target 2 falls out


def test_ranking_metrics_skips_users_without_targets() -> None:
    recs = np.array([[1, 2], [3, 4]])
    result = ranking_metrics(recs, [np.array([2]), np.array([], dtype=np.int64)], ks=(2,))
    assert result["recall_at_2"] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        ranking_metrics(recs, [np.array([2]), np.array([3])], ks=(5,))


def test_report_helpers(tmp_path) -> None:
    stats = mean_std([{"a": 1.0}, {"a": 3.0}], ["a"])
    assert stats == {"a": 2.0, "a_std": 1.0}
    assert 0 < rss_mb() <= peak_rss_mb()
    write_json(tmp_path / "r.json", {"seed": 0}, [{"model": "x", "recall_at_10": 0.5}])
    loaded = json.loads((tmp_path / "r.json").read_text())
    assert loaded == {"protocol": {"seed": 0}, "rows": [{"model": "x", "recall_at_10": 0.5}]}
