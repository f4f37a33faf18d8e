"""Purchase-prediction benchmark: the synthetic shop and the Taobao UserBehavior sample.

Protocol (per dataset and horizon N days): time split. The test cutoff is the end of the data
minus N days; features come from the events before it and the label is a purchase in the N days
after. The model (LightGBM, cross-fitted isotonic calibration, `tailor.propensity`) and the
baseline (logistic regression on log recency/frequency) are both trained only on windows whose
labels end by the test cutoff. AUC has a 95% percentile bootstrap interval over test users
(1,000 resamples), and so does the AUC gain over the baseline (paired resamples).

It also measures the profiles: the cost of folding one event into a profile state, and the
latency of GET /v1/users/{id}/profile through the in-process ASGI app (no network).

    nice .venv/bin/python benchmarks/propensity.py --json /tmp/propensity.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.datasets import taobao_frames
from tailor.ingest.synthetic import generate_shop
from tailor.propensity.evaluation import evaluate_propensity
from tailor.settings import load_settings

TAOBAO = Path("/work/shared/datasets/taobao-userbehavior-sample/UserBehavior_head.csv")
COLUMNS = [
    "dataset",
    "target",
    "days",
    "n",
    "positive_rate",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "baseline_auc",
    "auc_gain_ci_low",
    "auc_gain_ci_high",
    "ece",
    "baseline_ece",
    "brier",
    "log_loss",
    "fit_seconds",
]


def propensity_rows(name: str, events, items, days: int, step_days: float, seed: int) -> list[dict]:
    settings = load_settings(
        store_url="sqlite://", propensity={"step_days": step_days}, train={"random_state": seed}
    )
    start = time.perf_counter()
    result = evaluate_propensity(events, items, settings, days)
    seconds = time.perf_counter() - start
    return [
        {"dataset": name, "days": days, **row, "fit_seconds": round(seconds, 1)}
        for row in result.rows(seed=seed)
    ]


def profile_rows(seed: int) -> list[dict]:
    """Per-event fold cost and profile endpoint latency on a synthetic shop."""
    from fastapi.testclient import TestClient

    from tailor.engine import Engine
    from tailor.profiles import ItemFacts, new_state
    from tailor.service import create_app

    shop = generate_shop(2000, 800, days=60, seed=seed)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            store_url=f"sqlite:///{folder}/t.db",
            artifacts_dir=Path(folder) / "a",
            service={"auth": False},
        )
        facts = ItemFacts(shop.items)
        records = shop.events.to_dict("records")
        state = new_state(settings)
        start = time.perf_counter()
        for record in records:
            state.fold(record, facts, settings.ingest.event_weights)
        fold_ms = (time.perf_counter() - start) * 1000 / len(records)
        with Engine(settings) as engine:
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            engine.ingest_events(shop.events)
            users = shop.users["user_id"].sample(300, random_state=seed).tolist()
            with TestClient(create_app(settings, engine)) as client:
                for user in users:  # first touch builds each state
                    client.get(f"/v1/users/{user}/profile")
                latencies = []
                for user in users * 3:
                    begin = time.perf_counter()
                    assert (
                        client.get(f"/v1/users/{user}/profile", params={"lang": "zh"}).status_code
                        == 200
                    )
                    latencies.append((time.perf_counter() - begin) * 1000)
    return [
        {
            "dataset": "synthetic shop",
            "target": "profiles",
            "n": len(records),
            "profile_fold_ms_per_event": round(fold_ms, 4),
            "profile_p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "profile_p99_ms": round(float(np.percentile(latencies, 99)), 2),
        }
    ]


def push_rows(n_users: int, seed: int) -> list[dict]:
    """Wall time of one push plan over every user of a large synthetic shop (store on disk).

    The propensity models are trained (3 windows) on a 1,000-user shop with the same catalogue
    (same seed and item count), so the timing covers planning only: reading the events and push log, features,
    scoring every user and their candidate items, segments, send times and caps."""
    from tailor.engine import Engine
    from tailor.propensity.service import train_propensity
    from tailor.push.plan import PushRules
    from tailor.push.service import PlanRequest

    with tempfile.TemporaryDirectory() as folder:
        small = load_settings(
            store_url=f"sqlite:///{folder}/small.db",
            artifacts_dir=Path(folder) / "a",
            propensity={"windows": 3, "step_days": 3.0},
        )
        shop = generate_shop(1000, 1000, days=30, seed=seed)
        with Engine(small) as engine:
            engine.put_items(shop.items)
            engine.ingest_events(shop.events)
            train_propensity(engine.store, small)
        big = load_settings(
            store_url=f"sqlite:///{folder}/big.db", artifacts_dir=Path(folder) / "a"
        )
        large = generate_shop(n_users, 1000, days=30, seed=seed)
        with Engine(big) as engine:
            engine.put_items(large.items)
            engine.put_users(large.users)
            engine.ingest_events(large.events)
            now = int(large.events["ts"].max()) + 1
            rules = PushRules(k=3, per_day=1, per_week=3, quiet_start=22, quiet_end=8)
            start = time.perf_counter()
            planned = engine.plan_push(PlanRequest("all", rules, "app"), now=now)
            seconds = time.perf_counter() - start
    return [
        {
            "dataset": "synthetic shop",
            "target": "push plan",
            "n": len(large.events),
            "audience_users": n_users,
            "planned_users": len(planned),
            f"push_plan_seconds_{n_users // 1000}k_users": round(seconds, 1),
        }
    ]


def with_planted_p_buy(planted, fitted, target, value: float, margin_value: float, coupons: int):
    """The users our targeting would choose if it knew each user's planted P(buy) and kept its
    measured sensitivities: separates what P(buy) costs from what the sensitivities cost."""
    from tailor.campaigns.coupons import choose, incremental_profit, with_coupon

    p0 = planted["probability"].to_numpy()
    lift = target.rate_multiplier(fitted.grid, value)
    p1 = with_coupon(p0, fitted.posterior(planted.index), lift)
    profit = pd.Series(incremental_profit(p0, p1, margin_value, value), index=planted.index)
    return list(choose(profit, coupons))


def coupon_rows(n_users: int, n_items: int, seed: int, coupons: int = 200) -> list[dict]:
    """Coupon targeting on a synthetic shop with the coupon's effect planted (see
    `tailor.campaigns.planted`): trained on 60 days, scored on the 7 after, against the oracle
    that knows every user's planted incremental profit, at the same number of coupons."""
    from tailor.campaigns.coupons import CouponCampaign
    from tailor.campaigns.elasticity import fit_price_sensitivity
    from tailor.campaigns.planted import planted_coupon_profit, targeting_outcome
    from tailor.campaigns.prices import price_positions, resolve_target
    from tailor.campaigns.service import Campaigns
    from tailor.engine import Engine
    from tailor.propensity.features import before, prepare_events
    from tailor.propensity.service import train_propensity

    history, horizon, margin = 60, 7, 0.5
    shop = generate_shop(n_users, n_items, days=history + horizon, seed=seed)
    day_ms = 86_400_000
    cutoff = int(shop.events["ts"].min()) // day_ms * day_ms + history * day_ms
    past = shop.events[shop.events["ts"] < cutoff]
    category_of = shop.items.set_index("item_id")["category"]
    leaves = past.loc[past["kind"] == "view", "item_id"].map(category_of).value_counts().index[:3]
    positions = price_positions(shop.items)
    fitted = fit_price_sensitivity(before(prepare_events(past, shop.items), cutoff), positions)
    views = past.loc[past["kind"] == "view", "item_id"].value_counts()
    rows, totals = [], np.zeros(4)
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            store_url=f"sqlite:///{folder}/t.db",
            artifacts_dir=Path(folder) / "a",
            propensity={"days": [horizon], "step_days": 3.0},
            train={"random_state": seed},
        )
        with Engine(settings) as engine:
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            engine.ingest_events(past)
            train_propensity(engine.store, settings)
            campaigns = Campaigns(engine.store, settings, engine.propensity)
            for leaf in leaves:
                in_leaf = shop.items[shop.items["category"] == leaf]
                value = round(0.1 * float(in_leaf["price"].median()), 1)
                start = time.perf_counter()
                plan = campaigns.coupon(
                    CouponCampaign(
                        value=value, budget=coupons * value, margin=margin, category=leaf, at=cutoff
                    )
                )
                seconds = time.perf_counter() - start
                margin_value = margin * plan["target"]["reference_price"]
                planted = planted_coupon_profit(
                    shop,
                    in_leaf["item_id"].tolist(),
                    value,
                    margin_value,
                    shop_days=history + horizon,
                    horizon_days=horizon,
                )
                chosen = [u["user_id"] for u in plan["users"]]
                outcome = targeting_outcome(planted, chosen, coupons)
                target = resolve_target(shop.items, positions, views, category=leaf)
                knowing_p = targeting_outcome(
                    planted,
                    with_planted_p_buy(planted, fitted, target, value, margin_value, coupons),
                    coupons,
                )
                totals += (outcome.captured, outcome.oracle, outcome.random, knowing_p.captured)
                rows.append(
                    {
                        "dataset": "synthetic shop",
                        "target": f"coupon: {leaf.split('/')[-1]}",
                        "days": horizon,
                        "n": outcome.coupons,
                        "coupon_value": value,
                        "captured_profit": round(outcome.captured, 2),
                        "oracle_profit": round(outcome.oracle, 2),
                        "random_profit": round(outcome.random, 2),
                        "coupon_profit_ratio": round(outcome.ratio, 3),
                        "ratio_with_planted_p_buy": round(knowing_p.ratio, 3),
                        "campaign_seconds": round(seconds, 1),
                    }
                )
    measured = fitted.of(shop.users["user_id"].tolist())
    rows.append(
        {
            "dataset": "synthetic shop",
            "target": "coupon: 3 categories",
            "sensitivity_corr": round(
                float(np.corrcoef(measured, shop.truth.price_sensitivity)[0, 1]), 3
            ),
            "days": horizon,
            "n": sum(r["n"] for r in rows),
            "captured_profit": round(totals[0], 2),
            "oracle_profit": round(totals[1], 2),
            "random_profit": round(totals[2], 2),
            "coupon_profit_ratio": round(totals[0] / totals[1], 3),
            "ratio_with_planted_p_buy": round(totals[3] / totals[1], 3),
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taobao", type=Path, default=TAOBAO)
    parser.add_argument("--taobao-days", default="1,2", help="horizons on the Taobao sample")
    parser.add_argument("--shop-users", type=int, default=3000)
    parser.add_argument("--shop-items", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--push-users", type=int, default=100_000)
    parser.add_argument(
        "--skip", default="", help="comma-separated: shop, taobao, profiles, push, coupon"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    wall = time.perf_counter()
    rows: list[dict] = []
    if "shop" not in skip:
        shop = generate_shop(args.shop_users, args.shop_items, days=60, seed=args.seed)
        rows += propensity_rows("synthetic shop", shop.events, shop.items, 7, 3.0, args.seed)
    if "taobao" not in skip:
        frames = taobao_frames(args.taobao)
        for days in (int(d) for d in args.taobao_days.split(",")):
            rows += propensity_rows(
                "taobao sample", frames["events"], frames["items"], days, 1.0, args.seed
            )
    if "profiles" not in skip:
        rows += profile_rows(args.seed)
    if "push" not in skip:
        rows += push_rows(args.push_users, args.seed)
    if "coupon" not in skip:
        rows += coupon_rows(args.shop_users, args.shop_items, args.seed)
    protocol = {
        "split": "time: test cutoff = end - N days; train windows' labels end by the cutoff",
        "model": "LightGBM (propensity settings defaults), isotonic calibration cross-fitted over windows",
        "baseline": "logistic regression on log(days since last event, days since last purchase, "
        "30-day views, 30-day purchases)",
        "ci": "95% percentile bootstrap over test rows, 1,000 resamples",
        "seed": args.seed,
        "synthetic shop": f"{args.shop_users} users, {args.shop_items} items, 60 days, N = 7, windows every 3 days",
        "taobao": f"{args.taobao} ({'skipped' if 'taobao' in skip else 'N = ' + args.taobao_days}), windows every day",
        "coupon": f"{args.shop_users} users, 60 days + 7 held out; 3 most viewed leaves, coupon "
        "10% of the median price, margin 0.5, 200 coupons; oracle = top users by planted profit",
        "profiles": "fold cost over every event of a 2,000-user shop; GET latency through the in-process app",
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print_report(
        "purchase prediction and profiles",
        protocol,
        rows,
        COLUMNS
        + ["profile_fold_ms_per_event", "profile_p99_ms", "planned_users"]
        + ["coupon_value", "captured_profit", "oracle_profit", "random_profit"]
        + ["coupon_profit_ratio", "ratio_with_planted_p_buy", "sensitivity_corr"]
        + [f"push_plan_seconds_{args.push_users // 1000}k_users"],
    )
    if args.json is not None:
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    main()
