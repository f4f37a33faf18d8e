"""The second stage: a LightGBM LambdaRank model that orders the retrieved candidates.

`TwoStage` holds the retriever, the item facts the features read and the ranker; it is what an
artifact saves (without pickle: the booster as LightGBM's model text, the rest as JSON and
`.npz`) and what serving and evaluation call. Training is in `tailor.rank.ranker_training`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tailor.data.dataset import Dataset
from tailor.errors import ArtifactError
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
TOP_CONTRIBUTIONS = 3


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
        chunk = latest(slice_users(users, start, start + batch_size), max_history)
        seen = [np.asarray(h) for h in users.histories[start : start + batch_size]]
        kinds = chunk.kinds or [np.zeros(len(h), np.int64) for h in chunk.histories]
        ranked = two_stage.rank(chunk, [groups[c] for c in kinds], features, allowed, seen)
        out[start : start + len(chunk)] = two_stage.top(ranked, k)
    return out


def latest(users: UserBatch, max_len: int) -> UserBatch:
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
