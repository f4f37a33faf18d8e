"""Sequential recommendation benchmark on the Amazon / MovieLens sequence format (BENCHMARKS.md).

Leave-one-out per user (last item = test, second-to-last = validation, rest = train; the test
sees the whole sequence but the last item), full-catalogue ranking, history masked for the
headline (and unmasked with --unmasked), Recall/NDCG@5/10 averaged over all test users.

Each (model, seed) is fitted and evaluated in a fresh process, so its peak resident memory
(VmHWM: interpreter + data + model + ranking, native allocations included) belongs to it alone.
Models without a `random_state` are deterministic and run once; their std is 0 by construction.

With --cold-items F a seeded random fraction F of the catalogue is cold: every event on those
items is dropped from the training sequences (they keep their index and text), and cold_* scores
the test users whose target is a cold item. The test history stays what the shop would send, cold
items included.

    nice -n 10 .venv/bin/python benchmarks/sequential.py --data Beauty.txt \
        --models popular,itemknn,als,ease --out /tmp/beauty-out --json /tmp/beauty.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tailor.data.dataset import Dataset
from tailor.data.splits import drop_items, leave_one_out, sample_items
from tailor.evaluation import rank, ranking_metrics
from tailor.evaluation.report import (
    machine,
    mean_std,
    peak_rss_mb,
    print_report,
    rss_mb,
    write_json,
)
from tailor.ingest.datasets import read_item_text, read_sequences
from tailor.models import model_class

KS = (5, 10)
TOP_N = 100
COLD_SEED = 0  # the same cold items for every model and seed
METRICS = [f"{m}_at_{k}" for k in KS for m in ("recall", "ndcg")]
# Chosen on the validation targets of Amazon Beauty with --tune (see the report's "tuning" line).
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "itemknn": {"neighbours": 200, "shrink": 10.0},
    "als": {"factors": 128, "regularization": 0.1, "alpha": 50.0, "iterations": 15},
    "ease": {"l2": 50.0},
}
TUNING_GRID: dict[str, dict[str, list[Any]]] = {
    "itemknn": {"neighbours": [50, 200], "shrink": [0.0, 10.0]},
    "als": {"regularization": [0.1, 1.0], "alpha": [20.0, 50.0, 100.0]},
    "ease": {"l2": [10.0, 50.0, 200.0, 500.0]},
}
_PUBLISHED_BEAUTY = [
    ("BERT4Rec (TIGER paper, Table 1)", 0.0347, 0.0170),
    ("SASRec, BCE (TIGER paper, Table 1)", 0.0605, 0.0318),
    ("S3-Rec (TIGER paper, Table 1)", 0.0647, 0.0327),
    ("TIGER (Rajput et al., NeurIPS 2023)", 0.0648, 0.0384),
    ("HSTU (eSASRec benchmark)", 0.0788, 0.0439),
    ("ActionPiece (eSASRec benchmark)", 0.0775, 0.0424),
    ("eSASRec (arXiv 2508.06450)", 0.0928, 0.0523),
    ("SASRec + sampled softmax (eSASRec benchmark)", 0.0921, 0.0531),
    ("popularity (BENCHMARKS.md, measured here before)", 0.0135, 0.0061),
    ("implicit ALS 128f (BENCHMARKS.md, measured here before)", 0.0652, 0.0339),
    ("EASE l2=50 (BENCHMARKS.md, measured here before)", 0.0782, 0.0445),
]
_PUBLISHED_ML1M = [
    ("SASRec (HSTU README)", 0.2853, 0.1603),
    ("HSTU (HSTU README)", 0.3097, 0.1720),
    ("HSTU-large (HSTU README)", 0.3294, 0.1893),
    ("FuXi-alpha (eSASRec benchmark)", 0.3164, 0.1813),
]
PUBLISHED = {"Beauty.txt": _PUBLISHED_BEAUTY, "ml-1m_sequences.txt": _PUBLISHED_ML1M}


@dataclass(frozen=True)
class Job:
    model: str
    params: dict[str, Any]
    seed: int | None
    data: str
    text: str | None
    out: str | None = None
    unmasked: bool = False
    cold_items: float | None = None


def load(data: str, text: str | None) -> Dataset:
    return Dataset.from_sequences(read_sequences(data), read_item_text(text) if text else None)


def run_job(job: Job) -> dict[str, Any]:
    """Fit on train + validation targets, rank the full catalogue for the test users, score.

    Runs in a fresh process."""
    data = load(job.data, job.text)
    split = leave_one_out(data)
    cold = sample_items(data.n_items, job.cold_items, COLD_SEED) if job.cold_items else None
    train = split.train_valid if cold is None else drop_items(split.train_valid, cold)
    params = dict(job.params) | ({"random_state": job.seed} if job.seed is not None else {})
    model = model_class(job.model)(**params)
    base_mb = rss_mb()
    start = time.perf_counter()
    model.fit(train)
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    top = rank(model, split.test.users, TOP_N)
    row: dict[str, Any] = ranking_metrics(top, split.test.targets, KS)
    row = {key: row[key] for key in METRICS} | {
        "train_seconds": round(train_seconds, 2),
        "eval_seconds": round(time.perf_counter() - start, 2),
        "base_mem_mb": base_mb,
    }
    if job.unmasked:
        unmasked = rank(model, split.test.users, max(KS), exclude_seen=False)
        scores = ranking_metrics(unmasked, split.test.targets, KS)
        row |= {f"{key}_unmasked": scores[key] for key in METRICS}
    if cold is not None:
        row |= cold_scores(top, split.test.targets, cold)
    row["peak_mem_mb"] = peak_rss_mb()
    if job.out:
        export_top(
            Path(job.out) / f"{job.model}.jsonl", split.train_valid, split.test.users.user_idx, top
        )
    return row


def cold_scores(top: np.ndarray, targets: list[np.ndarray], cold: np.ndarray) -> dict[str, Any]:
    """Recall/NDCG@10 over the test users whose target is a cold item."""
    users = np.flatnonzero([np.isin(t, cold).any() for t in targets])
    scores = ranking_metrics(top[users], [targets[u] for u in users], (10,))
    return {
        "cold_recall_at_10": scores["recall_at_10"],
        "cold_ndcg_at_10": scores["ndcg_at_10"],
        "cold_users": len(users),
    }


def export_top(path: Path, data: Dataset, user_idx: np.ndarray, top: np.ndarray) -> None:
    """One line per test user: {"user_id": ..., "items": [shop item ids, best first]}."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for user, items in zip(user_idx.tolist(), top, strict=True):
            line = {"user_id": data.user_ids.id(user), "items": data.item_ids.ids(items)}
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def tune(
    model: str, params: dict[str, Any], grid: dict[str, list[Any]], data: str, text: str | None
) -> dict:
    """Fit each grid point on train and keep the best NDCG@10 on the validation targets."""
    split = leave_one_out(load(data, text))
    tried = []
    for values in itertools.product(*grid.values()):
        candidate = params | dict(zip(grid, values, strict=True))
        fitted = model_class(model)(**candidate).fit(split.train)
        scores = ranking_metrics(rank(fitted, split.valid.users, max(KS)), split.valid.targets, KS)
        tried.append(
            {
                "params": dict(zip(grid, values, strict=True)),
                "valid_ndcg_at_10": round(scores["ndcg_at_10"], 5),
            }
        )
        print(f"  tune {model} {tried[-1]}", flush=True)
    best = max(tried, key=lambda t: t["valid_ndcg_at_10"])
    return {"chosen": best["params"], "tried": tried}


def cold_protocol(data: Dataset, targets: list[np.ndarray], fraction: float) -> dict[str, Any]:
    cold = sample_items(data.n_items, fraction, COLD_SEED)
    users = sum(bool(np.isin(t, cold).any()) for t in targets)
    return {
        "cold_items": f"{len(cold)} items ({fraction:.0%} of the catalogue, seed {COLD_SEED}): "
        "every event on them dropped from train and train + validation; they keep their index "
        "and text. All metrics come from models fitted without them; cold_* is the mean over the "
        f"{users} test users whose target is cold, full-catalogue ranking, history masked. The "
        "test history is unchanged (cold items in it stay visible, as a shop would send them)",
    }


def in_fresh_process(fn: Callable[..., Any], *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def model_params(name: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Defaults for this benchmark, `binary` on where a model has it (every event here is one
    purchase-kind interaction, so kind weights carry nothing), then the --params overrides."""
    fields = model_class(name).Params.model_fields
    params = ({"binary": True} if "binary" in fields else {}) | DEFAULT_PARAMS.get(name, {})
    return params | overrides.get(name, {})


def benchmark_model(name: str, params: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    seeded = "random_state" in model_class(name).Params.model_fields
    seeds = list(range(args.seeds)) if seeded else [None]
    runs = []
    for i, seed in enumerate(seeds):
        out = args.out if i == 0 else None
        job = Job(name, params, seed, args.data, args.text, out, args.unmasked, args.cold_items)
        runs.append(in_fresh_process(run_job, job))
        print(f"  {name} seed={seed}: {json.dumps(runs[-1])}", flush=True)
    memory = ("peak_mem_mb", "base_mem_mb")  # the worst run, not an average
    keys = [k for k in runs[0] if isinstance(runs[0][k], float) and k not in memory]
    row = {"model": name} | mean_std(runs, keys)
    row |= {key: max(r[key] for r in runs) for key in memory}
    if "cold_users" in runs[0]:
        row["cold_users"] = runs[0]["cold_users"]
    row["seeds"] = len(seeds)
    return row


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", required=True, help="sequence file: `user item1 item2 ...` per line"
    )
    parser.add_argument("--text", help="item text JSONL ({item_id, title, ...}) for text models")
    parser.add_argument(
        "--models", default="popular,itemknn,als,ease", help="registry names, comma-separated"
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds for models with a random_state")
    parser.add_argument("--out", help="directory for <model>.jsonl test top-100 exports")
    parser.add_argument("--json", help="write {protocol, rows} here")
    parser.add_argument(
        "--unmasked", action="store_true", help="also report metrics without history masking"
    )
    parser.add_argument(
        "--cold-items",
        type=float,
        metavar="F",
        help="drop a seeded random fraction F of the items from training; score cold_* on the "
        "test users whose target is one of them",
    )
    parser.add_argument(
        "--params", default="{}", help='JSON overrides, e.g. \'{"ease": {"l2": 100}}\''
    )
    parser.add_argument(
        "--tune", action="store_true", help="pick the grid's best params on validation first"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    data = load(args.data, args.text)
    split = leave_one_out(data)
    overrides = json.loads(args.params)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    params = {name: model_params(name, overrides) for name in names}
    tuning: dict[str, Any] = {}
    for name in names:
        if args.tune and name in TUNING_GRID:
            tuning[name] = in_fresh_process(
                tune, name, params[name], TUNING_GRID[name], args.data, args.text
            )
            params[name] |= tuning[name]["chosen"]
    rows = [benchmark_model(name, params[name], args) | {"params": params[name]} for name in names]
    protocol = {
        "benchmark": "sequential leave-one-out",
        "data": str(args.data),
        "fingerprint": data.fingerprint(),
        "users_items_events": [data.n_users, data.n_items, data.n_events],
        "test_users": len(split.test),
        "split": "per user: last item = test, second-to-last = validation, rest = train; "
        "tuning fits on train and scores validation; the test model is fitted on train + "
        "validation targets and sees all but the last item; users with < 3 events train only",
        "ranking": f"full catalogue ({data.n_items} items), history masked (headline)"
        + ("; *_unmasked without masking" if args.unmasked else ""),
        "metrics": "Recall@K (= HR@K, one target), NDCG@K = 1/log2(rank+1), mean over test users",
        "seeds": f"{args.seeds} for models with random_state (mean ± std); "
        "deterministic models run once",
        "peak_mem_mb": "VmHWM of the fresh process that loaded the data, fitted and ranked "
        "(base_mem_mb: its RSS just before fit)",
        "params": params,
        "tuning": tuning or "none (defaults chosen earlier on validation with --tune)",
        "machine": machine(),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    published = [
        {"model": m, "recall_at_10": r, "ndcg_at_10": n}
        for m, r, n in PUBLISHED.get(Path(args.data).name, [])
    ]
    columns = ["model", *METRICS, "train_seconds", "peak_mem_mb"]
    if args.unmasked:
        columns[-2:-2] = ["recall_at_10_unmasked", "ndcg_at_10_unmasked"]
    if args.cold_items:
        columns[-2:-2] = ["cold_recall_at_10", "cold_ndcg_at_10", "cold_users"]
        protocol |= cold_protocol(data, split.test.targets, args.cold_items)
    print_report(
        f"Sequential benchmark: {Path(args.data).name}", protocol, rows, columns, published
    )
    if args.json:
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    sys.exit(main())
