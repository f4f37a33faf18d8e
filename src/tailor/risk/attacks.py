"""Labelled attackers to plant in a shop's events, so detection can be measured.

Bots click through items at a near-constant pace, pushing a target item; a fake-order ring is a
set of fresh accounts that buy the target item without browsing it, all within a few hours.
`stealth` makes both harder to see: bots click every 6-12 s with 20% jitter (under the click-rate
limit), and ring members view the target a minute before each order.

Coupon abusers come in two kinds: a farm of fresh accounts that each browse the target, redeem a
new-user coupon on it and buy it, all on one day; and hoarders, established accounts that redeem
far more coupons in a few days than anyone else, each on an item they browsed. So that coupons
alone do not give attackers away, honest shoppers redeem coupons too, on a share of their orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.risk.features import MS_PER_DAY, MS_PER_MINUTE

BOT = "bot"
FAKE_ORDER = "fake_order"
COUPON_ABUSE = "coupon_abuse"
COUPON_VALUE = 5.0


@dataclass(frozen=True)
class Attack:
    events: pd.DataFrame  # the shop's events plus the attackers'
    users: pd.DataFrame  # the shop's users plus the attackers'
    labels: dict[str, str]  # attacker user_id -> BOT, FAKE_ORDER or COUPON_ABUSE
    target_item: str


def inject_attacks(
    events: pd.DataFrame,
    users: pd.DataFrame,
    target_item: str,
    *,
    n_bots: int = 10,
    n_ring: int = 20,
    n_coupon_farm: int = 0,
    n_coupon_hoarders: int = 0,
    honest_coupon_share: float = 0.0,
    seed: int = 0,
    stealth: bool = False,
) -> Attack:
    """The shop with `n_bots` bots, a ring of `n_ring` fake buyers and a farm of `n_coupon_farm`
    coupon-redeeming fresh accounts around `target_item`, and `n_coupon_hoarders` hoarders, all
    inside the last days of the shop's events; `honest_coupon_share` of the shop's own purchases
    come with a coupon."""
    rng = np.random.default_rng(seed)
    item_ids = events["item_id"].dropna().unique()
    end = int(events["ts"].max())
    attackers = {
        BOT: _bots(rng, n_bots, item_ids, target_item, end, stealth),
        FAKE_ORDER: _ring(rng, n_ring, target_item, end, stealth),
    }
    farm = _coupon_farm(rng, n_coupon_farm, target_item, end)
    hoard = _coupon_hoarders(rng, n_coupon_hoarders, item_ids, end)
    attackers[COUPON_ABUSE] = (
        pd.concat([farm[0], hoard[0]], ignore_index=True),
        pd.concat([farm[1], hoard[1]], ignore_index=True),
    )
    honest = _honest_coupons(rng, events, honest_coupon_share)
    added = pd.concat([honest, *(e for e, _ in attackers.values())], ignore_index=True)
    added["event_id"] = [f"attack-{i}" for i in range(len(added))]
    labels = {u: kind for kind, (_, accounts) in attackers.items() for u in accounts["user_id"]}
    return Attack(
        events=pd.concat([events, added.reindex(columns=events.columns)], ignore_index=True),
        users=pd.concat([users, *(a for _, a in attackers.values())], ignore_index=True),
        labels=labels,
        target_item=target_item,
    )


def _rows(user_id: str, items: list[str], kinds: list[str], ts: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": user_id,
            "item_id": items,
            "kind": kinds,
            "ts": ts.astype(np.int64),
            "value": 1.0,
            "session_id": f"{user_id}-s",
            "channel": "web",
        }
    )


def _bots(
    rng: np.random.Generator, n: int, item_ids: np.ndarray, target: str, end: int, stealth: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    low, high, jitter = (6_000, 12_000, 0.2) if stealth else (1_500, 5_000, 0.05)
    frames, accounts = [], []
    for b in range(n):
        user_id = f"attack-bot{b}"
        clicks = int(rng.integers(150, 400))
        pace_ms = rng.uniform(low, high)
        start = end - int(rng.uniform(0.5, 5) * MS_PER_DAY)
        ts = start + np.cumsum(pace_ms * rng.uniform(1 - jitter, 1 + jitter, clicks))
        items = [target if rng.random() < 0.5 else str(rng.choice(item_ids)) for _ in range(clicks)]
        kinds = list(rng.choice(["view", "click"], clicks))
        frames.append(_rows(user_id, items, kinds, ts))
        accounts.append((user_id, start - int(rng.uniform(1, 60) * MS_PER_DAY)))
    return _stacked(frames), _accounts(accounts)


def _ring(
    rng: np.random.Generator, n: int, target: str, end: int, stealth: bool
) -> tuple[pd.DataFrame, pd.DataFrame]:
    burst_start = end - int(rng.uniform(1, 3) * MS_PER_DAY)
    frames, accounts = [], []
    for r in range(n):
        user_id = f"attack-ring{r}"
        first = burst_start + int(rng.uniform(0, 180) * MS_PER_MINUTE)
        orders = int(rng.integers(1, 4))
        ts = first + np.sort(rng.uniform(0, 30 * MS_PER_MINUTE, orders))
        frames.append(_rows(user_id, [target] * orders, ["purchase"] * orders, ts))
        if stealth:
            frames.append(_rows(user_id, [target] * orders, ["view"] * orders, ts - MS_PER_MINUTE))
        accounts.append((user_id, first - int(rng.uniform(5, 600) * MS_PER_MINUTE)))
    return _stacked(frames), _accounts(accounts)


def _coupon_farm(
    rng: np.random.Generator, n: int, target: str, end: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    day_start = (end // MS_PER_DAY - 1) * MS_PER_DAY
    frames, accounts = [], []
    for f in range(n):
        user_id = f"attack-farm{f}"
        first = day_start + int(rng.uniform(60, 1_200) * MS_PER_MINUTE)
        ts = first + np.cumsum(rng.uniform(1, 4, 3) * MS_PER_MINUTE)
        frames.append(_rows(user_id, [target] * 3, ["view", "coupon", "purchase"], ts))
        frames[-1].loc[1, "value"] = COUPON_VALUE
        accounts.append((user_id, first - int(rng.uniform(5, 120) * MS_PER_MINUTE)))
    return _stacked(frames), _accounts(accounts)


def _coupon_hoarders(
    rng: np.random.Generator, n: int, item_ids: np.ndarray, end: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames, accounts = [], []
    for h in range(n):
        user_id = f"attack-hoarder{h}"
        orders = int(rng.integers(6, 11))
        starts = end - np.sort(rng.uniform(0.1, 4, orders))[::-1] * MS_PER_DAY
        items = [str(i) for i in rng.choice(item_ids, orders)]
        for item, start in zip(items, starts, strict=True):
            ts = start + np.cumsum(rng.uniform(1, 10, 3) * MS_PER_MINUTE)
            frames.append(_rows(user_id, [item] * 3, ["view", "coupon", "purchase"], ts))
            frames[-1].loc[1, "value"] = COUPON_VALUE
        accounts.append((user_id, end - int(rng.uniform(30, 300) * MS_PER_DAY)))
    return _stacked(frames), _accounts(accounts)


def _honest_coupons(rng: np.random.Generator, events: pd.DataFrame, share: float) -> pd.DataFrame:
    """A coupon redeemed a second before a random `share` of the shop's purchases."""
    purchases = events[events["kind"] == "purchase"]
    chosen = purchases[rng.random(len(purchases)) < share]
    return pd.DataFrame(
        {
            "user_id": chosen["user_id"].to_numpy(),
            "item_id": chosen["item_id"].to_numpy(),
            "kind": "coupon",
            "ts": chosen["ts"].to_numpy(np.int64) - 1_000,
            "value": COUPON_VALUE,
            "session_id": chosen["session_id"].to_numpy(),
            "channel": chosen["channel"].to_numpy(),
        }
    )


def _stacked(frames: list[pd.DataFrame]) -> pd.DataFrame:
    if not frames:  # no attackers of this kind
        return _rows("", [], [], np.zeros(0)).iloc[:0]
    return pd.concat(frames, ignore_index=True)


def _accounts(rows: list[tuple[str, int]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [u for u, _ in rows],
            "attributes": [{} for _ in rows],
            "created_at": np.array([c for _, c in rows], dtype=np.int64),
        }
    )
