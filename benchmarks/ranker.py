"""The two-stage pipeline against its own sources, on a time split of shop data.

Protocol (per dataset): the latest 10% of the events (by the 90th percentile of their time, as
`tailor train` evaluates) are the test period. Every source is fitted on the events before the
cutoff and ranks the full catalogue for each test user (a user with events on both sides; targets:
the distinct items the user touched after the cutoff; history masked). The ranker is trained
inside the training period only: its sources are fitted before a second cutoff (the latest
`label_fraction` of the training events) and what users did after it labels their candidates;
at test time it ranks the candidates of the sources fitted on the whole training period, exactly
as `tailor train` builds an artifact. The RRF blend (serving without a ranker) is shown too.

Confidence intervals come from a paired bootstrap over test users (the same resampled users
for every row); the gain is the ranker's NDCG@10 minus that of the best single source, the
source picked on the test users themselves (which favours the baseline).

    nice -n 10 .venv/bin/python benchmarks/ranker.py --json /tmp/ranker.json
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from tailor.data.dataset import Dataset
from tailor.data.splits import EvalSet, time_split
from tailor.engine.train import HOLDOUT_FRACTION, build_models, fit_models
from tailor.evaluation import metrics, rank
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.datasets import taobao_frames
from tailor.ingest.synthetic import generate_shop
from tailor.rank.blend import Blend
from tailor.rank.ranker import rank_users
from tailor.rank.ranker_training import fit_two_stage, ranker_split
from tailor.settings import Settings, load_settings

K = 10
TAOBAO = "/work/shared/datasets/taobao-userbehavior-sample/UserBehavior_head.csv"
MODELS = "popular,trending,itemknn,als,ease"
RANKER, BLEND = "ranker", "blend (RRF)"


def shop_data(users: int, items: int, days: int, seed: int) -> Dataset:
    shop = generate_shop(users, items, days=days, seed=seed)
    return Dataset.from_events(shop.events, shop.items)


def taobao_data(path: str) -> Dataset:
    frames = taobao_frames(path)
    return Dataset.from_events(frames["events"], frames["items"])


def per_user(ranked: np.ndarray, test: EvalSet) -> dict[str, np.ndarray]:
    """NDCG@K and Recall@K of each test user."""
    hits = metrics.hit_matrix(ranked, test.targets)
    n_targets = metrics.target_counts(test.targets)
    return {
        "ndcg": metrics.ndcg_at_k(hits, n_targets, K),
        "recall": metrics.recall_at_k(hits, n_targets, K),
    }


def bootstrap(values: np.ndarray, draws: np.ndarray) -> tuple[float, float]:
    """95% interval of the mean of `values` over the resampled user sets `draws`."""
    means = values[draws].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def run(name: str, data: Dataset, settings: Settings, resamples: int) -> list[dict[str, Any]]:
    cutoff = int(np.quantile(data.ts, 1.0 - HOLDOUT_FRACTION, method="higher"))
    split = time_split(data, cutoff)
    train, test = split.train, split.test
    start = time.perf_counter()
    fitted = fit_models(build_models(settings), train, settings, None, "")
    fit_seconds = dict(fitted.seconds)
    scores = {n: per_user(rank(m, test.users, K), test) for n, m in fitted.models.items()}
    scores[BLEND] = per_user(rank(Blend(fitted.models), test.users, K), test)
    ranker_start = time.perf_counter()
    inner = ranker_split(train, settings.train.ranker)
    before = fit_models(
        {n: m for n, m in build_models(settings).items() if n in fitted.models},
        inner.train, settings, None, "",
    )  # fmt: skip
    two_stage = fit_two_stage(
        train, inner, before.models, fitted.models, settings.train.ranker,
        threads=settings.train.threads, random_state=settings.train.random_state,
    )  # fmt: skip
    fit_seconds[RANKER] = round(time.perf_counter() - ranker_start, 2)
    scores[RANKER] = per_user(rank_users(two_stage, train, test.users, K), test)
    draws = np.random.default_rng(settings.train.random_state).integers(
        0, len(test), size=(resamples, len(test))
    )
    best = max(fitted.models, key=lambda n: scores[n]["ndcg"].mean())
    rows = []
    for model, values in scores.items():
        low, high = bootstrap(values["ndcg"], draws)
        rows.append(
            {
                "data": name,
                "model": model,
                "ndcg_at_10": float(values["ndcg"].mean()),
                "ndcg_ci95": f"{low:.4f}-{high:.4f}",
                "recall_at_10": float(values["recall"].mean()),
                "train_seconds": fit_seconds.get(model),
            }
        )
    gain = scores[RANKER]["ndcg"] - scores[best]["ndcg"]
    low, high = bootstrap(gain, draws)
    base = float(scores[best]["ndcg"].mean())
    rows.append(
        {
            "data": name,
            "model": f"gain: ranker - {best}",
            "ndcg_at_10": float(gain.mean()),
            "ndcg_ci95": f"{low:+.4f}-{high:+.4f}",
            "relative_gain": f"{gain.mean() / base:+.1%}" if base else "n/a",
            "recall_at_10": float((scores[RANKER]["recall"] - scores[best]["recall"]).mean()),
        }
    )
    facts = {
        "fingerprint": data.fingerprint(),
        "users_items_events": [data.n_users, data.n_items, data.n_events],
        "cutoff_ts": cutoff,
        "test_users": len(test),
        "skipped": fitted.skipped,
        "ranker": two_stage.summary,
        "wall_seconds": round(time.perf_counter() - start, 1),
    }
    for row in rows:
        row["facts"] = facts
    return rows


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="shop,taobao", help="shop and/or taobao")
    parser.add_argument("--taobao", default=TAOBAO, help="the UserBehavior CSV sample")
    parser.add_argument("--shop", default="5000,1000,60", help="users,items,days")
    parser.add_argument("--models", default=MODELS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--resamples", type=int, default=1000, help="bootstrap draws")
    parser.add_argument("--json", help="also write the rows and protocol here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    settings = load_settings(
        path=None,
        train={
            "models": [m.strip() for m in args.models.split(",") if m.strip()],
            "threads": args.threads,
            "random_state": args.seed,
        },
    )
    users, items, days = (int(v) for v in args.shop.split(","))
    rows: list[dict[str, Any]] = []
    for name in [d.strip() for d in args.data.split(",") if d.strip()]:
        if name == "shop":
            data = shop_data(users, items, days, args.seed)
            label = f"synthetic shop {users}x{items}, {days} days, seed {args.seed}"
        elif name == "taobao":
            data, label = taobao_data(args.taobao), "Taobao UserBehavior sample"
        else:
            raise SystemExit(f"unknown --data {name!r}: use shop and/or taobao")
        rows += run(label, data, settings, args.resamples)
    protocol = {
        "benchmark": "two-stage ranker vs its sources, time split",
        "split": f"test = events at or after the {1 - HOLDOUT_FRACTION:.0%} time quantile; "
        "targets = distinct items a user touched after it; history masked; full catalogue",
        "ranker_training": "inside the training period only: sources fitted before the latest "
        f"{settings.train.ranker.label_fraction:.0%} of its events, candidates labelled by what "
        "users did after (purchase 3, cart/favorite 2, other 1)",
        "metrics": f"NDCG@{K}, Recall@{K}, mean over test users; 95% CI: paired bootstrap over "
        f"test users ({args.resamples} draws); gain vs the best single source picked on test",
        "datasets": {r["data"]: r["facts"] for r in rows},
        "models": settings.train.models,
        "ranker_settings": settings.train.ranker.model_dump(mode="json"),
        "seed": args.seed,
        "threads": args.threads,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_mem_mb": peak_rss_mb(),
        "machine": machine(),
    }
    table = [{k: v for k, v in r.items() if k != "facts"} for r in rows]
    columns = ["data", "model", "ndcg_at_10", "ndcg_ci95", "relative_gain", "recall_at_10",
               "train_seconds"]  # fmt: skip
    print_report("Two-stage ranker vs single sources", protocol, table, columns)
    if args.json:
        write_json(args.json, protocol, table)


if __name__ == "__main__":
    sys.exit(main())
