"""Risk-control benchmark: planted attackers in the synthetic shop, caught or not, and how far
they lift a target item in the trending and popular lists with protection off and on.

Protocol: `generate_shop(users, items, days, seed)`; the target is the item ranked at the
`--target-quantile` of the clean shop's trending list (a mid-list item an attacker would push).
`inject_attacks` adds `--bots` bots (clicks every 1.5-5 s, half on the target) and a ring of
`--ring` fresh accounts buying the target 1-3 times without browsing, within three hours; a coupon
farm of `--coupon-farm` fresh accounts that each view the target, redeem a coupon on it and buy it
on one day, and `--coupon-hoarders` older accounts redeeming 6-10 coupons within four days; honest
shoppers redeem a coupon on `--honest-coupon-share` of their own orders.
Detection: every user scored with the default `[risk]` settings; flagged = score >= min_score.
Per attack type, precision counts that type's flagged attackers against all flagged honest
users; the `all` row counts every attacker. Exposure: the target's 1-based rank in Trending
(7-day window, 1-day half-life) and Popular (distinct users; the feed's cold-start fallback)
fitted on the clean shop, the attacked shop, and the attacked shop with flagged users' events
left out (`tailor.risk.training_events`). Lift = clean rank - attacked rank (positions gained).
In recommendations: ItemKNN (default params) fitted on each of the three event sets recommends
10 items to a fixed sample of honest users (`--rec-users`, seen items masked); exposure is the
share of them whose top 10 holds the target, and lift is that share minus the clean one.
Two scenarios: `plain`, and `stealth` (bots click every 6-12 s with 20% jitter, under the
click-rate limit; ring members view the target a minute before each order).

    nice .venv/bin/python benchmarks/risk.py --json /tmp/risk.json
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tailor.data.dataset import Dataset
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.models.itemknn import ItemKNN
from tailor.models.popular import Popular, Trending
from tailor.risk.attacks import BOT, COUPON_ABUSE, FAKE_ORDER, inject_attacks
from tailor.risk.exclusion import training_events
from tailor.risk.scoring import score_users
from tailor.settings import RiskSettings
from tailor.types import DEFAULT_EVENT_WEIGHTS

DETECTION_COLUMNS = ["attack", "attackers", "flagged", "precision", "recall", "honest_flagged"]
EXPOSURE_COLUMNS = [
    "list",
    "measure",
    "clean",
    "attacked",
    "protected",
    "exposure_lift_unprotected",
    "exposure_lift_protected",
]
LISTS = {"trending": Trending, "popular": Popular}


def ranks(events, target: str) -> dict[str, int]:
    """The target's 1-based rank in each list fitted on `events` (ties keep the item order)."""
    data = Dataset.from_events(events, None, DEFAULT_EVENT_WEIGHTS)
    out = {}
    for name, cls in LISTS.items():
        scores = cls().fit(data).scores_
        order = np.argsort(-scores, kind="stable")
        out[name] = int(np.flatnonzero(order == data.item_ids.index(target))[0]) + 1
    return out


def recommended_share(events, target: str, user_ids: list[str], k: int = 10) -> float:
    """Share of `user_ids` whose top k from ItemKNN fitted on `events` holds the target."""
    data = Dataset.from_events(events, None, DEFAULT_EVENT_WEIGHTS)
    model = ItemKNN().fit(data)
    batch = data.user_batch(data.user_ids.indices(user_ids))
    recs = model.recommend(batch, k)
    return float((recs.item_idx == data.item_ids.index(target)).any(axis=1).mean())


def exposure_row(
    name: str,
    measure: str,
    clean: float,
    attacked: float,
    protected: float,
    *,
    higher_is_more: bool,
) -> dict:
    sign = 1 if higher_is_more else -1
    return {
        "list": name,
        "measure": measure,
        "clean": clean,
        "attacked": attacked,
        "protected": protected,
        "exposure_lift_unprotected": sign * (attacked - clean),
        "exposure_lift_protected": sign * (protected - clean),
    }


def detection_rows(scores, labels: dict[str, str]) -> list[dict]:
    flagged = {s.user_id for s in scores if s.flagged}
    honest_flagged = len(flagged - set(labels))
    rows = []
    for attack in (BOT, FAKE_ORDER, COUPON_ABUSE, "all"):
        members = {u for u, kind in labels.items() if attack in ("all", kind)}
        caught = len(members & flagged)
        rows.append(
            {
                "attack": attack,
                "attackers": len(members),
                "flagged": caught,
                "precision": caught / max(caught + honest_flagged, 1),
                "recall": caught / max(len(members), 1),
                "honest_flagged": honest_flagged,
            }
        )
    return rows


def run_scenario(shop, clean_data: Dataset, target: str, stealth: bool, args) -> dict:
    """Detection and exposure rows for one attack on the shop, and the scoring time."""
    scenario = "stealth" if stealth else "plain"
    attack = inject_attacks(
        shop.events,
        shop.users,
        target,
        n_bots=args.bots,
        n_ring=args.ring,
        n_coupon_farm=args.coupon_farm,
        n_coupon_hoarders=args.coupon_hoarders,
        honest_coupon_share=args.honest_coupon_share,
        seed=args.seed,
        stealth=stealth,
    )
    settings = RiskSettings()
    started = time.perf_counter()
    scores = score_users(attack.events, attack.users, settings)
    scoring_seconds = time.perf_counter() - started
    protected, _ = training_events(attack.events, attack.users, settings)

    event_sets = (shop.events, attack.events, protected)
    clean, attacked, kept = (ranks(e, target) for e in event_sets)
    exposure = [
        exposure_row(
            name, "target rank", clean[name], attacked[name], kept[name], higher_is_more=False
        )
        for name in LISTS
    ]
    kept_users = set(protected["user_id"])
    honest = sorted(u for u in clean_data.user_ids.to_list() if u in kept_users)
    sample = [
        str(u) for u in np.random.default_rng(args.seed).permutation(honest)[: args.rec_users]
    ]
    shares = [recommended_share(e, target, sample) for e in event_sets]
    exposure.append(
        exposure_row(
            "itemknn recs", "share of users shown it in top 10", *shares, higher_is_more=True
        )
    )
    detection = detection_rows(scores, attack.labels)
    headline = {
        "scenario": scenario,
        "precision": detection[-1]["precision"],
        "recall": detection[-1]["recall"],
        "exposure_lift_unprotected": exposure[0]["exposure_lift_unprotected"],
        "exposure_lift_protected": exposure[0]["exposure_lift_protected"],
        "scoring_seconds": round(scoring_seconds, 2),
        "users_scored": len(scores),
    }
    return {
        "headline": headline,
        "detection": [{"scenario": scenario} | r for r in detection],
        "exposure": [{"scenario": scenario} | r for r in exposure],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--bots", type=int, default=20)
    parser.add_argument("--ring", type=int, default=30)
    parser.add_argument("--coupon-farm", type=int, default=15)
    parser.add_argument("--coupon-hoarders", type=int, default=5)
    parser.add_argument("--honest-coupon-share", type=float, default=0.1)
    parser.add_argument("--target-quantile", type=float, default=0.5)
    parser.add_argument("--rec-users", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the rows and protocol to this file")
    args = parser.parse_args()

    start = time.perf_counter()
    shop = generate_shop(args.users, args.items, days=args.days, seed=args.seed)
    clean_data = Dataset.from_events(shop.events, None, DEFAULT_EVENT_WEIGHTS)
    order = np.argsort(-Trending().fit(clean_data).scores_, kind="stable")
    target = clean_data.item_ids.to_list()[order[int(args.target_quantile * (len(order) - 1))]]
    runs = [run_scenario(shop, clean_data, target, stealth, args) for stealth in (False, True)]
    protocol = {
        "name": "planted attackers in the synthetic shop",
        "shop": f"generate_shop({args.users}, {args.items}, days={args.days}, seed={args.seed})",
        "attack": f"{args.bots} bots, a ring of {args.ring} fake buyers, a coupon farm of "
        f"{args.coupon_farm}, {args.coupon_hoarders} coupon hoarders, target {target}; honest "
        f"coupons on {args.honest_coupon_share:.0%} of orders; plain and stealth scenarios",
        "min_score": RiskSettings().min_score,
        "exposure_lift": "headline: trending target rank clean - attacked (positions gained)",
        "wall_seconds": round(time.perf_counter() - start, 1),
        "peak_rss_mb": peak_rss_mb(),
        "machine": machine(),
    }
    headlines = [run["headline"] for run in runs]
    detection = [row for run in runs for row in run["detection"]]
    exposure = [row for run in runs for row in run["exposure"]]
    print_report("Risk: headline (acceptance keys)", {}, headlines, list(headlines[0]))
    print_report(
        "Risk: detection of planted attackers", {}, detection, ["scenario", *DETECTION_COLUMNS]
    )
    print_report(
        "Risk: the target item's exposure with protection off and on",
        protocol,
        exposure,
        ["scenario", *EXPOSURE_COLUMNS],
    )
    if args.json:
        rows = [h | {"row": "headline"} for h in headlines]
        rows += [r | {"row": "detection"} for r in detection]
        rows += [r | {"row": "exposure"} for r in exposure]
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    main()
