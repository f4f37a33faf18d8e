"""Request-time latency of the sequence transformer: encode one user's latest events and return the
top-100 over the full catalogue, one user per call, on one thread (BENCHMARKS.md; goal p99 <= 10 ms).

The model is loaded from --model-dir if it holds one, else fitted on the leave-one-out
train + validation data (default params) and saved there. Users are test users of the split,
each seeing the whole sequence but the last item, as in the sequential benchmark.

    nice -n 10 .venv/bin/python benchmarks/inference.py --data Beauty.txt --text Beauty_item_text.jsonl \
        --model-dir /tmp/beauty-transformer --json /tmp/inference.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from tailor.data.dataset import Dataset
from tailor.data.splits import leave_one_out
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.datasets import read_item_text, read_sequences
from tailor.models.base import PARAMS_FILE
from tailor.models.transformer import SequenceTransformer
from tailor.types import UserBatch

WARMUP = 50


def fitted_model(
    model_dir: Path, data: Dataset, params: dict[str, Any]
) -> tuple[SequenceTransformer, float | None]:
    if (model_dir / PARAMS_FILE).exists():
        return SequenceTransformer.load(model_dir), None
    start = time.perf_counter()
    model = SequenceTransformer(**params).fit(data)
    seconds = time.perf_counter() - start
    model.save(model_dir)
    return model, seconds


def latencies_ms(model: SequenceTransformer, users: UserBatch, k: int) -> np.ndarray:
    """Wall time of `recommend` for each user alone, after a warm-up."""
    one = [UserBatch(users.user_idx[i : i + 1], users.histories[i : i + 1], users.kinds[i : i + 1])
           for i in range(len(users))]  # fmt: skip
    for batch in one[:WARMUP]:
        model.recommend(batch, k)
    times = np.empty(len(one))
    for i, batch in enumerate(one):
        start = time.perf_counter()
        model.recommend(batch, k)
        times[i] = time.perf_counter() - start
    return times * 1000.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", required=True, help="sequence file: `user item1 item2 ...` per line"
    )
    parser.add_argument("--text", help="item text JSONL for the text side information")
    parser.add_argument(
        "--model-dir", required=True, help="load the model here, or fit and save it here"
    )
    parser.add_argument("--params", default="{}", help="JSON params when fitting")
    parser.add_argument("--users", type=int, default=2000, help="users timed (at least 1,000)")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write {protocol, rows} here")
    args = parser.parse_args(argv)

    data = Dataset.from_sequences(
        read_sequences(args.data), read_item_text(args.text) if args.text else None
    )
    split = leave_one_out(data)
    model, train_seconds = fitted_model(
        Path(args.model_dir), split.train_valid, json.loads(args.params)
    )
    test = split.test.users
    chosen = np.sort(
        np.random.default_rng(args.seed).choice(
            len(test), min(args.users, len(test)), replace=False
        )
    )
    users = UserBatch(
        test.user_idx[chosen], [test.histories[i] for i in chosen], [test.kinds[i] for i in chosen]
    )
    torch.set_num_threads(1)
    with threadpool_limits(1):
        ms = latencies_ms(model, users, args.k)
    row = {
        "model": "transformer",
        "users": len(ms),
        "inference_p50_ms": round(float(np.percentile(ms, 50)), 3),
        "inference_p90_ms": round(float(np.percentile(ms, 90)), 3),
        "inference_p99_ms": round(float(np.percentile(ms, 99)), 3),
        "inference_mean_ms": round(float(ms.mean()), 3),
        "recs_per_s": round(1000.0 / float(ms.mean()), 1),
        "train_seconds": round(train_seconds, 1) if train_seconds is not None else None,
        "peak_mem_mb": peak_rss_mb(),
    }
    protocol = {
        "benchmark": "request latency: one user's sequence encoded + top-k over the full catalogue",
        "data": str(args.data),
        "fingerprint": data.fingerprint(),
        "catalogue_items": data.n_items,
        "k": args.k,
        "threads": "1 (torch and BLAS)",
        "timed": f"Recommender.recommend for one user at a time ({WARMUP} warm-up calls first), history masked",
        "users": f"{len(ms)} test users of the leave-one-out split (seed {args.seed}), history = all but last item",
        "model": f"{args.model_dir} ({'fitted now' if train_seconds is not None else 'loaded'}), "
        f"params {json.dumps(model.params.model_dump())}",
        "goal": "inference_p99_ms <= 10",
        "machine": machine(),
    }
    columns = [
        "model",
        "users",
        "inference_p50_ms",
        "inference_p90_ms",
        "inference_p99_ms",
        "recs_per_s",
    ]
    print_report("Inference latency: sequence transformer", protocol, [row], columns)
    if args.json:
        write_json(args.json, protocol, [row])


if __name__ == "__main__":
    main()
