import numpy as np
import pytest

from tailor.evaluation.segments import history_buckets, popularity_buckets, segment_metrics


def test_history_buckets_by_hand():
    lengths = np.array([0, 1, 4, 5, 9, 10, 19, 20, 100])
    assert history_buckets(lengths).tolist() == [
        "1-4", "1-4", "1-4", "5-9", "5-9", "10-19", "10-19", "20+", "20+",
    ]  # fmt: skip


def test_popularity_buckets_split_the_interactions_20_30_50():
    # 20 interactions: item 0 starts at 0% (head); items 1, 2 start at 20% and 35% (torso);
    # item 3 starts at 50% and everything after it is tail.
    counts = np.array([4, 3, 3, 2, 2, 2, 1, 1, 1, 1])
    assert popularity_buckets(counts).tolist() == ["head"] + ["torso"] * 2 + ["tail"] * 7


def test_popularity_buckets_ignore_item_order_and_put_unseen_items_in_the_tail():
    counts = np.array([0, 1, 3, 16])  # item 3 alone is 80%: head; item 2 starts at 80%
    assert popularity_buckets(counts).tolist() == ["tail", "tail", "tail", "head"]
    assert popularity_buckets(np.zeros(3)).tolist() == ["tail"] * 3


def test_segment_metrics_by_hand():
    counts = np.array([4, 3, 3, 2, 2, 2, 1, 1, 1, 1])  # head {0}, torso {1, 2}, tail {3..9}
    rec_items = np.array([[0, 1], [9, 3]])
    targets = [np.array([1]), np.array([0, 9])]
    result = segment_metrics(rec_items, targets, np.array([3, 25]), counts, k=2)
    second = 1 / np.log2(3)
    history = result["history"]
    assert set(history) == {"1-4", "20+"}
    assert history["1-4"]["ndcg_at_2"] == pytest.approx(second)
    assert history["1-4"]["recall_at_2"] == 1.0
    assert history["20+"]["ndcg_at_2"] == pytest.approx(1 / (1 + second))
    assert history["20+"]["recall_at_2"] == 0.5
    popularity = result["popularity"]
    assert popularity["head"] == {"ndcg_at_2": 0.0, "recall_at_2": 0.0, "n_users": 1.0}
    assert popularity["torso"]["ndcg_at_2"] == pytest.approx(second)
    assert popularity["tail"] == {"ndcg_at_2": 1.0, "recall_at_2": 1.0, "n_users": 1.0}
