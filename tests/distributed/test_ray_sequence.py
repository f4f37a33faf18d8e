"""The Transformer trained by Ray Train (DDP, 2 workers, gloo) matches one-process training."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.distributed.sequence import fit_transformer
from tailor.models.sequence_training import Replica
from tailor.models.transformer import SequenceTransformer
from tailor.types import UserBatch

N_ITEMS = 40
PARAMS = {
    "text": False,
    "dim": 32,
    "layers": 1,
    "heads": 2,
    "max_len": 10,
    "dropout": 0.1,
    "epochs": 2,
    "batch_size": 64,
    "lr": 1e-2,
    "validation_users": 0,
}
TOLERANCE = 0.02  # relative, on the next-item accuracy (docs/distributed.md)


def test_replicas_split_each_batch_and_weigh_it_back_together() -> None:
    lengths = np.array([5, 1, 3, 2, 0, 4, 2])
    batch = np.arange(7)
    shares = [Replica(rank, 2).share(batch, lengths) for rank in range(2)]
    rows = np.concatenate([rows for rows, _ in shares])
    assert sorted(rows) == [0, 2, 3, 5, 6]  # rows with a next event to predict, each once
    # DDP averages the workers' weighted mean losses: that must be the whole batch's mean loss
    row_loss = np.array([0.4, 0.0, 2.0, 0.7, 0.0, 1.3, 0.1])  # summed over each row's tokens
    tokens = np.maximum(lengths - 1, 0)
    means = [w * row_loss[r].sum() / tokens[r].sum() for r, w in shares]
    assert np.mean(means) == pytest.approx(row_loss.sum() / tokens.sum())
    assert Replica().share(batch, lengths) == (batch, 1.0)
    alone, weight = Replica(1, 2).share(np.array([0]), lengths)
    assert weight == 0.0 and list(alone) == [0]  # nothing left: repeats the batch, weighs nothing


def markov_data(
    n_users: int = 400, length: int = 10, noise: float = 0.2
) -> tuple[Dataset, np.ndarray]:
    rng = np.random.default_rng(0)
    successor = rng.permutation(N_ITEMS)
    sequences = {}
    for u in range(n_users):
        item, seq = int(rng.integers(N_ITEMS)), []
        for _ in range(length):
            seq.append(f"i{item}")
            item = int(successor[item]) if rng.random() > noise else int(rng.integers(N_ITEMS))
        sequences[f"u{u}"] = seq
    return Dataset.from_sequences(sequences, {f"i{i}": "" for i in range(N_ITEMS)}), successor


def next_item_accuracy(model: SequenceTransformer, successor: np.ndarray) -> float:
    starts = np.random.default_rng(1).integers(N_ITEMS, size=1000)
    histories = [[int(s), int(successor[s])] for s in starts]
    recs = model.recommend(UserBatch.of_histories(histories), k=1, exclude_seen=False)
    return float(np.mean(recs.item_idx[:, 0] == successor[[h[-1] for h in histories]]))


def test_ddp_training_matches_one_process(local_ray, tmp_path) -> None:
    data, successor = markov_data()
    single = SequenceTransformer(**PARAMS).fit(data)
    distributed = fit_transformer(
        SequenceTransformer(**PARAMS), data, workers=2, storage=tmp_path / "train"
    )
    expected = next_item_accuracy(single, successor)
    assert expected > 0.5  # it learned the chain (chance: 1/40)
    assert next_item_accuracy(distributed, successor) == pytest.approx(expected, rel=TOLERANCE)
    assert distributed.item_table_.shape == single.item_table_.shape
