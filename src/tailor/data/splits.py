"""Train/evaluation splits: leave-one-out (the sequential benchmarks) and a time cutoff (shop data).

A split keeps the full user and item index space of the data it came from, so indices mean the
same thing in the training set, the evaluation sets and the model. The file order of events is
kept as it is: ties are never re-sorted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tailor.data.dataset import Dataset
from tailor.types import UserBatch


@dataclass(frozen=True)
class EvalSet:
    """Users to rank for (with the history the model may see) and each user's target items."""

    users: UserBatch
    targets: list[np.ndarray]

    def __post_init__(self) -> None:
        if len(self.users) != len(self.targets):
            raise ValueError("users and targets must have the same length")

    def __len__(self) -> int:
        return len(self.targets)


@dataclass(frozen=True)
class LeaveOneOut:
    """`train` + `valid` for choosing hyperparameters; `train_valid` (train plus the validation
    targets: everything but each user's last event) + `test` for the final numbers."""

    train: Dataset
    valid: EvalSet
    test: EvalSet
    train_valid: Dataset


@dataclass(frozen=True)
class TimeSplit:
    train: Dataset
    test: EvalSet


def leave_one_out(data: Dataset) -> LeaveOneOut:
    """Per user: last event = test target, second-to-last = validation target, the rest = train.

    Validation users see seq[:-2] and test users seq[:-1]; a model fitted for the test is fitted
    on `train_valid`, which holds the same seq[:-1]. Users with fewer than 3 events are kept whole
    in both training sets and are not evaluated.
    """
    lengths = np.diff(data.indptr)
    evaluated = np.flatnonzero(lengths >= 3)
    starts, ends = data.indptr[:-1], data.indptr[1:]
    keep = np.ones(data.n_events, dtype=bool)
    keep[ends[evaluated] - 1] = False
    train_valid = _subset(data, keep)
    keep[ends[evaluated] - 2] = False
    train = _subset(data, keep)

    def eval_set(cut: int) -> EvalSet:
        histories = [data.items[starts[u] : ends[u] - cut] for u in evaluated]
        kinds = [data.kind_codes[starts[u] : ends[u] - cut] for u in evaluated]
        targets = [
            data.items[ends[u] - cut : ends[u] - cut + 1].astype(np.int64) for u in evaluated
        ]
        return EvalSet(UserBatch(evaluated.astype(np.int64), histories, kinds), targets)

    return LeaveOneOut(train=train, valid=eval_set(2), test=eval_set(1), train_valid=train_valid)


def time_split(data: Dataset, cutoff_ts: int) -> TimeSplit:
    """Train on events before `cutoff_ts`; test each user with training events on the distinct
    items the user interacted with at or after it (in order of first appearance)."""
    before = data.ts < cutoff_ts
    train = _subset(data, before)
    users, histories, kinds, targets = [], [], [], []
    for u in range(data.n_users):
        start, end = data.indptr[u], data.indptr[u + 1]
        after = data.items[start:end][~before[start:end]]
        if len(after) == 0 or train.indptr[u + 1] == train.indptr[u]:
            continue
        distinct, first = np.unique(after, return_index=True)
        users.append(u)
        histories.append(train.history(u))
        kinds.append(train.kind_codes[train.indptr[u] : train.indptr[u + 1]])
        targets.append(distinct[np.argsort(first)].astype(np.int64))
    batch = UserBatch(np.asarray(users, dtype=np.int64), histories, kinds)
    return TimeSplit(train=train, test=EvalSet(batch, targets))


def sample_items(n_items: int, fraction: float, seed: int) -> np.ndarray:
    """A seeded random `fraction` of the item indices (at least one), sorted: the cold items."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"fraction must be in (0, 1), got {fraction}")
    n_cold = max(1, round(fraction * n_items))
    return np.sort(np.random.default_rng(seed).choice(n_items, n_cold, replace=False))


def drop_items(data: Dataset, items: np.ndarray) -> Dataset:
    """`data` without any event on `items`; the users and the catalogue (with its text) stay, so
    the dropped items keep their indices and can still be scored from their content."""
    return _subset(data, ~np.isin(data.items, items))


def _subset(data: Dataset, keep: np.ndarray) -> Dataset:
    """The same users and items with only the kept events, in their original order."""
    user_of_event = np.repeat(np.arange(data.n_users), np.diff(data.indptr))
    counts = np.bincount(user_of_event[keep], minlength=data.n_users)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return data.with_sequences(indptr, data.items[keep], data.kind_codes[keep], data.ts[keep])
