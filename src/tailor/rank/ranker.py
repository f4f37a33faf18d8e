"""The second stage: a LightGBM LambdaRank model over the retrieved candidates.

Training (`fit_two_stage`) works on a time split of the data it is given: the sources are fitted
on the events before a cutoff (the latest `label_fraction` of events lie after it), candidates are
retrieved for a sample of users with events on both sides, from their history before the cutoff
(items in it excluded, as a served feed does), and each candidate is labelled by what the user did
with it after: purchase 3, cart or favourite 2, any other positive event 1, nothing 0. Users none
of whose candidates was touched teach nothing and are left out; a share of the rest is held out
to stop the boosting early. The sources are then what the caller serves with (refitted on all
events), and the ranker scores their candidates.

Saved without pickle: the booster as LightGBM's model text, the rest as JSON and `.npz`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tailor.data.dataset import Dataset
from tailor.data.splits import TimeSplit, time_split
from tailor.errors import ArtifactError, UnsupportedError
from tailor.evaluation.offline import slice_users
from tailor.models.base import Recommender
from tailor.rank.features import FeatureBuilder, ItemSide, ItemStats, kind_groups
from tailor.rank.retrieval import Candidates, Retriever
from tailor.rank.tree_paths import TreePaths
from tailor.settings import RankerSettings
from tailor.types import UserBatch

BOOSTER_FILE = "ranker.txt"
META_FILE = "ranker.json"
ITEMS_FILE = "items.npz"
INDEX_DIR = "index"
GRADES = {"purchase": 3, "cart": 2, "favorite": 2}  # any other positive kind: 1
TOP_CONTRIBUTIONS = 3
TRAINING_CHUNK = 256  # users whose candidates are retrieved and featurised at once


class Ranker:
    """A fitted LambdaRank booster and the names of the features it reads."""

    def __init__(self, booster: Any, names: Sequence[str]) -> None:
        self.booster = booster
        self.names = list(names)
        self.paths = TreePaths(booster)

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: np.ndarray,
        groups: np.ndarray,
        names: Sequence[str],
        settings: RankerSettings,
        *,
        threads: int = 1,
        random_state: int = 0,
    ) -> tuple[Ranker, dict[str, Any]]:
        """Fit on query groups (`groups`: candidates per user, in row order); a share of the
        users is held out for early stopping. Returns the ranker and what training saw."""
        lgb = _lightgbm()
        rng = np.random.default_rng(random_state)
        held = rng.random(len(groups)) < settings.validation_fraction
        if held.all() or not held.any() or held.sum() < 2:
            held[:] = False
        owner = np.repeat(np.arange(len(groups)), groups)
        params = {
            "objective": "lambdarank",
            "metric": "ndcg",
            "eval_at": [10],
            "learning_rate": settings.learning_rate,
            "num_leaves": settings.num_leaves,
            "min_child_samples": settings.min_child_samples,
            "num_threads": threads,
            "seed": random_state,
            "deterministic": True,
            "verbosity": -1,
        }
        fit_rows = ~held[owner]
        train_set = lgb.Dataset(
            features[fit_rows], labels[fit_rows], group=groups[~held], feature_name=list(names),
            free_raw_data=True,
        )  # fmt: skip
        valid_sets, callbacks = [], []
        if held.any():
            valid_sets = [
                lgb.Dataset(features[~fit_rows], labels[~fit_rows], group=groups[held],
                            reference=train_set)
            ]  # fmt: skip
            callbacks = [lgb.early_stopping(settings.early_stopping_rounds, verbose=False)]
        booster = lgb.train(
            params, train_set, settings.n_estimators, valid_sets=valid_sets, callbacks=callbacks
        )
        best = booster.best_iteration or settings.n_estimators
        summary = {
            "n_users": len(groups),
            "n_users_held_out": int(held.sum()),
            "n_candidates": len(labels),
            "positive_share": round(float((labels > 0).mean()), 4),
            "trees": int(best),
            "valid_ndcg_at_10": round(float(booster.best_score["valid_0"]["ndcg@10"]), 4)
            if held.any()
            else None,
        }
        return cls(booster, names), summary

    def predict(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0, dtype=np.float32)
        return self.booster.predict(features, num_threads=1).astype(np.float32)

    def contributions(
        self, features: np.ndarray, top: int = TOP_CONTRIBUTIONS
    ) -> list[dict[str, float]]:
        """Per row, the `top` features that moved its score most, with their credit along the
        row's decision paths (`tailor.rank.tree_paths`)."""
        if not len(features):
            return []
        credit = self.paths.contributions(features)
        order = np.argsort(-np.abs(credit), axis=1, kind="stable")[:, :top]
        return [
            {self.names[f]: round(float(credit[r, f]), 4) for f in order[r].tolist()}
            for r in range(len(credit))
        ]


@dataclass(frozen=True)
class Ranked:
    candidates: Candidates
    features: np.ndarray
    scores: np.ndarray  # the ranker's, per candidate


class TwoStage:
    """Retrieval from the sources, features, the ranker."""

    def __init__(
        self,
        retriever: Retriever,
        ranker: Ranker,
        stats: ItemStats,
        summary: Mapping[str, Any] | None = None,
    ) -> None:
        self.retriever = retriever
        self.ranker = ranker
        self.stats = stats
        self.summary = dict(summary or {})

    @property
    def sources(self) -> tuple[str, ...]:
        return self.retriever.names

    def features_for(self, items: ItemSide) -> FeatureBuilder:
        return FeatureBuilder(self.sources, items)

    def rank(
        self,
        users: UserBatch,
        groups: Sequence[np.ndarray],
        features: FeatureBuilder,
        allowed: np.ndarray,
        exclude: Sequence[np.ndarray],
    ) -> Ranked:
        """Candidates of every user, with their features and ranker scores. `groups`: the kind
        group of each history event (see `tailor.rank.features.kind_groups`)."""
        candidates = self.retriever.retrieve(users, allowed, exclude)
        matrix = features.build(candidates, users.histories, groups)
        return Ranked(candidates, matrix, self.ranker.predict(matrix))

    def top(self, ranked: Ranked, k: int) -> np.ndarray:
        """(n_users, k) best-first item indices, -1 padded (for evaluation)."""
        cands = ranked.candidates
        n_users = len(cands.indptr) - 1
        row = cands.row
        order = np.lexsort((-ranked.scores, row))
        position = np.arange(len(order)) - cands.indptr[row[order]]
        out = np.full((n_users, k), -1, dtype=np.int64)
        keep = position < k
        out[row[order][keep], position[keep]] = cands.item[order][keep]
        return out

    def describe(self) -> dict[str, Any]:
        """What a manifest says of the ranker."""
        return {"sources": list(self.sources), "features": self.ranker.names, **self.summary}

    # ---- persistence ----------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.ranker.booster.save_model(str(path / BOOSTER_FILE))
        meta = {
            "features": self.ranker.names,
            "sources": list(self.sources),
            "settings": self.retriever.settings.model_dump(mode="json"),
            "reference_ts": self.stats.reference_ts,
            "summary": self.summary,
        }
        (path / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        np.savez(
            path / ITEMS_FILE,
            popularity=self.stats.popularity,
            recent=self.stats.recent,
            first_ts=self.stats.first_ts,
        )
        self.retriever.save(path / INDEX_DIR)

    @classmethod
    def load(cls, path: Path, models: Mapping[str, Recommender]) -> TwoStage:
        lgb = _lightgbm()
        try:
            meta = json.loads((path / META_FILE).read_text("utf-8"))
            booster = lgb.Booster(model_file=str(path / BOOSTER_FILE))
            with np.load(path / ITEMS_FILE, allow_pickle=False) as npz:
                stats = ItemStats(
                    popularity=npz["popularity"], recent=npz["recent"],
                    first_ts=npz["first_ts"], reference_ts=float(meta["reference_ts"]),
                )  # fmt: skip
        except (OSError, ValueError, KeyError, lgb.basic.LightGBMError) as exc:
            raise ArtifactError(f"cannot load the ranker from {path}: {exc}") from exc
        settings = RankerSettings.model_validate(meta["settings"])
        missing = set(meta["sources"]) - set(models)
        if missing:
            raise ArtifactError(f"the ranker reads sources the artifact lacks: {sorted(missing)}")
        retriever = Retriever(
            {n: models[n] for n in meta["sources"]},
            settings.model_copy(update={"sources": meta["sources"]}),
            Retriever.load_indexes(path / INDEX_DIR),
        )
        return cls(retriever, Ranker(booster, meta["features"]), stats, meta["summary"])


# ---- training ------------------------------------------------------------------------------------


def ranker_cutoff(data: Dataset, settings: RankerSettings) -> int:
    """Where the latest `label_fraction` of the events begin."""
    return int(np.quantile(data.ts, 1.0 - settings.label_fraction, method="higher"))


def ranker_split(data: Dataset, settings: RankerSettings) -> TimeSplit:
    """`data` split at `ranker_cutoff`: the sources of the ranker's training are fitted before,
    and what users did after labels their candidates."""
    return time_split(data, ranker_cutoff(data, settings))


def rank_users(
    two_stage: TwoStage, data: Dataset, users: UserBatch, k: int, batch_size: int = 1024
) -> np.ndarray:
    """(len(users), k) best-first item indices, the users' histories excluded, -1 padded: the
    two-stage counterpart of `tailor.evaluation.rank`."""
    features = two_stage.features_for(ItemSide.of_data(two_stage.stats, data))
    groups = kind_groups(data.kinds)
    max_history = two_stage.retriever.settings.max_history
    allowed = np.ones(data.n_items, dtype=bool)
    out = np.full((len(users), k), -1, dtype=np.int64)
    for start in range(0, len(users), batch_size):
        chunk = _recent(slice_users(users, start, start + batch_size), max_history)
        seen = [np.asarray(h) for h in users.histories[start : start + batch_size]]
        kinds = chunk.kinds or [np.zeros(len(h), np.int64) for h in chunk.histories]
        ranked = two_stage.rank(chunk, [groups[c] for c in kinds], features, allowed, seen)
        out[start : start + len(chunk)] = two_stage.top(ranked, k)
    return out


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
    recent = _recent(users, settings.max_history)
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


def _recent(users: UserBatch, max_len: int) -> UserBatch:
    """The latest `max_len` events of each user: what serving encodes."""
    return UserBatch(
        users.user_idx,
        [np.asarray(h)[-max_len:] for h in users.histories],
        None if users.kinds is None else [np.asarray(k)[-max_len:] for k in users.kinds],
    )


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise ImportError("the ranker needs LightGBM: pip install lightgbm") from exc
    return lightgbm
