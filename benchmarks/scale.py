"""How training, memory, index building and serving grow with the shop: 1x, 4x, 16x.

Protocol: the synthetic shop at `--users` x `--items` (x scale each; same `--days`, so events grow
about as users do) is stored in a fresh SQLite store. At each scale, in a fresh process (so the
peak memory is that scale's):
  train_seconds       `tailor train --no-evaluate`: the default models and ranker (`Engine.train`)
  peak_rss_mb         the process's peak resident memory after training and serving
  index_build_ms      a faiss index (the ranker's kind) over the fitted ALS item vectors
  recs_per_s          in-process `Engine.recommend(user, k=10)` for `--requests` random users, one
                      thread, after 20 warm-up requests
The growth exponent of each measure is the least-squares slope of log(measure) on log(events).

    nice -n 10 .venv/bin/python benchmarks/scale.py --json /tmp/scale.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.rank.retrieval import VectorIndex
from tailor.settings import load_settings

MEASURES = ("train_seconds", "peak_rss_mb", "index_build_ms", "recs_per_s")
WARM_UP = 20


def measure_scale(args: argparse.Namespace, scale: int) -> dict[str, Any]:
    """One scale's row, measured in this process."""
    shop = generate_shop(args.users * scale, args.items * scale, days=args.days, seed=args.seed)
    with tempfile.TemporaryDirectory(prefix="tailor-scale-") as folder:
        config = Path(folder) / "tailor.toml"
        config.write_text("", encoding="utf-8")  # defaults, whatever the working directory holds
        settings = load_settings(
            config,
            store_url=f"sqlite:///{folder}/shop.db",
            artifacts_dir=f"{folder}/artifacts",
            train={"threads": args.threads, "random_state": args.seed},
        )
        with Engine(settings) as engine:
            start = time.perf_counter()
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            engine.ingest_events(shop.events)
            ingest_seconds = time.perf_counter() - start
            start = time.perf_counter()
            manifest = engine.train(evaluate=False)
            train_seconds = time.perf_counter() - start
            index_seconds = _index_build_seconds(engine, settings)
            recs_per_s = _recs_per_s(engine, shop.users["user_id"].astype(str).tolist(), args)
    return {
        "scale": scale,
        "users": manifest.n_users,
        "items": manifest.n_items,
        "events": manifest.n_events,
        "data_fingerprint": manifest.data_fingerprint,
        "ingest_seconds": round(ingest_seconds, 2),
        "train_seconds": round(train_seconds, 2),
        "peak_rss_mb": peak_rss_mb(),
        "index_build_ms": round(1000 * index_seconds, 3),
        "recs_per_s": round(recs_per_s, 1),
        "load_average_1m": machine()["load_average_1m"],
    }


def _index_build_seconds(engine: Engine, settings: Any) -> float:
    als = engine.serving.artifact.models["als"]
    vectors = np.ascontiguousarray(als.item_factors_, dtype=np.float32)
    start = time.perf_counter()
    VectorIndex.build(vectors, settings.train.ranker)
    return time.perf_counter() - start


def _recs_per_s(engine: Engine, users: list[str], args: argparse.Namespace) -> float:
    rng = np.random.default_rng(args.seed)
    picked = [users[i] for i in rng.integers(len(users), size=WARM_UP + args.requests)]
    for user in picked[:WARM_UP]:
        engine.recommend(user, 10)
    start = time.perf_counter()
    for user in picked[WARM_UP:]:
        engine.recommend(user, 10)
    return args.requests / (time.perf_counter() - start)


def exponents(rows: list[dict[str, Any]]) -> dict[str, float]:
    """exponent_<measure>: slope of log(measure) on log(events), least squares."""
    events = np.log([row["events"] for row in rows])
    slopes = {
        name: np.polyfit(events, np.log([row[name] for row in rows]), 1)[0] for name in MEASURES
    }
    return {f"exponent_{name}": round(float(slope), 3) for name, slope in slopes.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000, help="shoppers at scale 1")
    parser.add_argument("--items", type=int, default=300, help="products at scale 1")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="train.threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the protocol, rows and exponents here")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: measure one scale
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure_scale(args, args.one)))
        return
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:])]
    forwarded = _without_option(forwarded, "--json")
    rows, start = [], time.perf_counter()
    for scale in (int(s) for s in args.scales.split(",")):
        child = subprocess.run(
            [sys.executable, __file__, *forwarded, "--one", str(scale)],
            check=True, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(f"scale {scale}: {rows[-1]}", file=sys.stderr)
    fitted = exponents(rows) if len(rows) > 1 else {}
    protocol = {
        "name": "scale: synthetic shop at growing sizes, one fresh process per size",
        "base": {"users": args.users, "items": args.items, "days": args.days},
        "seed": args.seed,
        "models": "train.models defaults, ranker on, evaluate off",
        "train_threads": args.threads,
        "requests_per_scale": args.requests,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
        **fitted,
    }
    columns = ["scale", "users", "items", "events", "ingest_seconds", *MEASURES]
    print_report("Scale", protocol, rows, [*columns, "load_average_1m"])
    if args.json:
        write_json(args.json, protocol, rows)


def _without_option(argv: list[str], name: str) -> list[str]:
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(f"{name}="):
            out.append(arg)
    return out


if __name__ == "__main__":
    main()
