"""Demand-forecast backtest: the synthetic shop (daily) and the Taobao UserBehavior sample (hourly).

Protocol: rolling origin over a held-out tail. The forecaster (`tailor.forecast`: a global
LightGBM on lag and calendar features with quantile models for an 80% interval; Croston for
sparse series, a moving average for short ones) is fitted once on the steps before the tail;
every step of the tail is then an origin that sees the actual sales up to it and forecasts all
remaining tail steps. Errors are pooled over (series, origin, target). WAPE = sum |error| / sum
actual; MASE = a series' mean absolute error over its in-sample mean absolute seasonal
difference, averaged over series (series whose training part never changes are left out). The
baseline is seasonal-naive (same weekday last week; same hour yesterday) under the same protocol.

- synthetic shop: 60 days with a planted weekly rhythm and promotion windows; the last 14 days
  are held out. The forecaster does not see the promotions (the store has no promotion calendar).
- Taobao sample: the file covers only about 9 days of purchases, too short for a 14-day holdout
  or a weekly season, so it is forecast hourly (season = 24 hours) with the last 24 hours held
  out. Its 758 categories sell a few times a week each (almost all sparse, so Croston); the shop's
  hourly total is reported as its own dense series.

    nice .venv/bin/python benchmarks/forecast.py --json /tmp/forecast.json
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.forecast import SalesSeries, backtest, series_of
from tailor.ingest.datasets import taobao_frames
from tailor.ingest.synthetic import generate_shop

TAOBAO = Path("/work/shared/datasets/taobao-userbehavior-sample/UserBehavior_head.csv")
COLUMNS = [
    "dataset",
    "step",
    "holdout_steps",
    "n_series",
    "lightgbm_series",
    "wape",
    "wape_seasonal_naive",
    "mase",
    "mase_seasonal_naive",
    "interval_coverage",
    "fingerprint",
    "seconds",
]


def total(series: SalesSeries) -> SalesSeries:
    """The sum of all series, as one series."""
    return SalesSeries(["all"], series.grid, series.values.sum(axis=0, keepdims=True))


def row(name: str, series: SalesSeries, holdout: int) -> dict:
    start = time.perf_counter()
    result = backtest(series, holdout)
    return {
        "dataset": name,
        "step": "day" if series.grid.season == 7 else "hour",
        "holdout_steps": holdout,
        "n_series": result.n_series,
        "lightgbm_series": result.methods.get("lightgbm", 0),
        "wape": round(result.wape, 4),
        "wape_seasonal_naive": round(result.wape_seasonal_naive, 4),
        "mase": round(result.mase, 4),
        "mase_seasonal_naive": round(result.mase_seasonal_naive, 4),
        "interval_coverage": round(result.interval_coverage, 4),
        "methods": result.methods,
        "fingerprint": series.fingerprint(),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("taobao", type=Path, nargs="?", default=TAOBAO)
    parser.add_argument("--shop-users", type=int, default=3000)
    parser.add_argument("--shop-items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", default="", help="comma-separated: shop, taobao")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    wall = time.perf_counter()
    rows: list[dict] = []
    if "shop" not in skip:
        shop = generate_shop(args.shop_users, args.shop_items, days=60, seed=args.seed)
        for level in ("category", "item"):
            series = series_of(shop.events, shop.items, level)
            rows.append(row(f"synthetic shop, {level} (daily)", series, 14))
    if "taobao" not in skip:
        frames = taobao_frames(args.taobao)
        events = frames["events"].assign(value=np.nan)
        categories = series_of(events, frames["items"], "category", hourly=True)
        rows.append(row("taobao sample, category (hourly)", categories, 24))
        rows.append(row("taobao sample, shop total (hourly)", total(categories), 24))
    protocol = {
        "protocol": "rolling origin: fit before the held-out tail, every tail step an origin "
        "forecasting the rest of the tail; errors pooled over (series, origin, target)",
        "baseline": "seasonal-naive (daily: same weekday last week; hourly: same hour yesterday)",
        "interval": "80% (LightGBM quantile models 0.1 / 0.9; Poisson for the simple methods)",
        "seed": args.seed,
        "synthetic shop": f"{args.shop_users} users, {args.shop_items} items, 60 days, weekly "
        "rhythm and promotions planted (promotions not given to the forecaster), last 14 days held out",
        "taobao": f"{args.taobao}: about 9 days of purchases, so hourly with the last 24 hours held out"
        if "taobao" not in skip
        else "skipped",
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print_report("demand forecast backtest", protocol, rows, COLUMNS)
    if args.json is not None:
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    main()
