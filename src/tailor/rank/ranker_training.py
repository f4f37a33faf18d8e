"""Training the ranker on a time split of the data it is given.

The sources are fitted on the events before a cutoff (the latest `label_fraction` of events lie
after it); candidates are retrieved for a sample of users with events on both sides, from their
history before the cutoff (items in it excluded, as a served feed does), and each candidate is
labelled by what the user did with it after: purchase 3, cart or favourite 2, any other positive
event 1, nothing 0. Users none of whose candidates was touched teach nothing and are left out;
of the others every touched candidate and a sample of the untouched ones are kept, and a share
of the users is held out to stop the boosting early. The sources the result serves with are
the same models refitted on all events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tailor.data.dataset import Dataset
from tailor.data.splits import TimeSplit, time_split
from tailor.errors import UnsupportedError
from tailor.evaluation.offline import slice_users
from tailor.models.base import Recommender
from tailor.rank.features import FeatureBuilder, ItemSide, ItemStats, kind_groups
from tailor.rank.ranker import Ranker, TwoStage, latest
from tailor.rank.retrieval import Candidates, Retriever
from tailor.settings import RankerSettings
from tailor.types import UserBatch

GRADES = {"purchase": 3, "cart": 2, "favorite": 2}  # any other positive kind: 1
TRAINING_CHUNK = 256  # users whose candidates are retrieved and featurised at once


def ranker_cutoff(data: Dataset, settings: RankerSettings) -> int:
    """Where the latest `label_fraction` of the events begin."""
    return int(np.quantile(data.ts, 1.0 - settings.label_fraction, method="higher"))


def ranker_split(data: Dataset, settings: RankerSettings) -> TimeSplit:
    """`data` split at `ranker_cutoff`: the sources of the ranker's training are fitted before,
    and what users did after labels their candidates."""
    return time_split(data, ranker_cutoff(data, settings))


def fit_two_stage(
    data: Dataset,
    split: TimeSplit,
    before: Mapping[str, Recommender],
    serving: Mapping[str, Recommender],
    settings: RankerSettings,
    *,
    threads: int = 1,
    random_state: int = 0,
) -> TwoStage:
    """Train the ranker on `split` (`data` split by `ranker_split`): `before` are the sources
    fitted on `split.train`; the result serves the candidates of `serving` (the same models
    fitted on all of `data`). UnsupportedError when the split gives nothing to learn from."""
    names = [n for n in settings.sources or serving if n in before and n in serving]
    if not names or not split.train.n_events:
        raise UnsupportedError("no source was fitted both before the ranker's cutoff and after")
    settings = settings.model_copy(update={"sources": names})
    cutoff = int(split.train.ts.max()) + 1  # the split's cutoff, as far as events can tell
    retriever = Retriever(before, settings)
    items = ItemSide.of_data(ItemStats.of(split.train, cutoff), data)
    builder = FeatureBuilder(retriever.names, items)
    users = _sample(split.test.users, settings.max_users, random_state)
    if not len(users):
        raise UnsupportedError("no user has events both before and after the ranker's cutoff")
    rng = np.random.default_rng(random_state)
    parts = [
        _training_part(data, cutoff, slice_users(users, start, start + TRAINING_CHUNK),
                       retriever, builder, settings, rng)
        for start in range(0, len(users), TRAINING_CHUNK)
    ]  # fmt: skip
    per_user = np.concatenate([p.per_user for p in parts])
    if (per_user > 0).sum() < 2:
        raise UnsupportedError(
            "fewer than 2 users touched any of their candidates after the cutoff"
        )
    ranker, summary = Ranker.fit(
        np.concatenate([p.features for p in parts]), np.concatenate([p.labels for p in parts]),
        per_user[per_user > 0], builder.names, settings,
        threads=threads, random_state=random_state,
    )  # fmt: skip
    summary = {"cutoff_ts": cutoff, "n_users_sampled": len(users), **summary}
    stats_all = ItemStats.of(data, float(data.ts.max()))
    return TwoStage(Retriever(serving, settings), ranker, stats_all, summary)


@dataclass(frozen=True)
class _Part:
    features: np.ndarray
    labels: np.ndarray
    per_user: np.ndarray  # training rows of each user of the chunk (0: left out)


def _training_part(
    data: Dataset,
    cutoff: int,
    users: UserBatch,
    retriever: Retriever,
    builder: FeatureBuilder,
    settings: RankerSettings,
    rng: np.random.Generator,
) -> _Part:
    """One chunk of users' labelled candidates, sampled down to the rows trained on: chunks keep
    the (users x items) scores of the sources and the unsampled feature rows small."""
    recent = latest(users, settings.max_history)
    groups = kind_groups(data.kinds)
    candidates = retriever.retrieve(
        recent, np.ones(data.n_items, dtype=bool), [np.asarray(h) for h in users.histories]
    )
    matrix = builder.build(candidates, recent.histories, [groups[k] for k in recent.kinds or []])
    labels = _labels(data, cutoff, users.user_idx, candidates)
    owner = candidates.row
    positives = np.bincount(owner, weights=labels > 0, minlength=len(users))
    rows = _training_rows(owner, labels, positives, settings.negatives_per_user, rng)
    return _Part(matrix[rows], labels[rows], np.bincount(owner[rows], minlength=len(users)))


def _training_rows(
    owner: np.ndarray,
    labels: np.ndarray,
    positives: np.ndarray,
    negatives: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Candidate rows to train on, in their order: of users who touched any candidate, every
    touched one and a random `negatives` of the others."""
    draw = rng.random(len(owner))
    draw[labels > 0] = -1.0  # touched candidates come first
    order = np.lexsort((draw, owner))
    starts = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=len(positives)))])
    position = np.arange(len(order)) - starts[owner[order]]
    keep = (position < positives[owner[order]] + negatives) & (positives[owner[order]] > 0)
    return np.sort(order[keep])


def _labels(data: Dataset, cutoff: int, user_idx: np.ndarray, candidates: Candidates) -> np.ndarray:
    """Each candidate's grade: the strongest kind of the user's events on it after the cutoff."""
    grade_of_kind = np.array([GRADES.get(k, 1) for k in data.kinds], dtype=np.int64)
    user_of_event = np.repeat(np.arange(data.n_users), np.diff(data.indptr))
    after = data.ts >= cutoff
    keys = user_of_event[after].astype(np.int64) * data.n_items + data.items[after]
    grades = grade_of_kind[data.kind_codes[after]]
    order = np.lexsort((-grades, keys))
    unique, first = np.unique(keys[order], return_index=True)
    best = grades[order][first]
    query = user_idx[candidates.row] * data.n_items + candidates.item
    at = np.minimum(np.searchsorted(unique, query), max(len(unique) - 1, 0))
    found = (unique[at] == query) if len(unique) else np.zeros(len(query), dtype=bool)
    return np.where(found, best[at] if len(unique) else 0, 0).astype(np.float32)


def _sample(users: UserBatch, limit: int, seed: int) -> UserBatch:
    if len(users) <= limit:
        return users
    keep = np.sort(np.random.default_rng(seed).choice(len(users), limit, replace=False))
    return UserBatch(
        users.user_idx[keep],
        [users.histories[i] for i in keep],
        None if users.kinds is None else [users.kinds[i] for i in keep],
    )
