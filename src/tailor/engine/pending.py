"""Continue shopping: the items a user carted, favourited or viewed and has not bought since."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

DAY_MS = 86_400_000
# Interactions that leave an item pending until it is bought, and the reason code of each.
PENDING: dict[str, str] = {"cart": "in_cart", "favorite": "favorited", "view": "viewed_before"}
PENDING_KINDS = {"cart": "cart", "favorite": "favorite", "view": "view", "click": "view"}


@dataclass(frozen=True)
class Pending:
    item_id: str
    code: str  # a PENDING reason code
    score: float  # the kind's weight, halved every half-life of age
    ts: int


def pending_items(
    events: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    now_ms: float,
    half_life_days: float,
    max_age_days: float,
) -> list[Pending]:
    """Items with a cart, favourite, click or view after their last purchase, from events oldest
    first: each scored by its strongest such kind's weight, halved every `half_life_days` since
    the latest of them; best first. Items ever disliked, and those last touched more than
    `max_age_days` ago, are left out."""
    strongest: dict[str, tuple[str, int]] = {}
    disliked: set[str] = set()
    for item_id, kind, ts in zip(
        events["item_id"].tolist(), events["kind"].tolist(), events["ts"].tolist()
    ):
        if not isinstance(item_id, str):
            continue
        if weights.get(kind, 0.0) < 0:
            disliked.add(item_id)
        if kind == "purchase":
            strongest.pop(item_id, None)
        if kind not in PENDING_KINDS:
            continue
        pending = PENDING_KINDS[kind]
        held = strongest.get(item_id)
        if held is not None and weights.get(held[0], 0.0) > weights.get(pending, 0.0):
            pending = held[0]
        strongest[item_id] = (pending, int(ts))
    found = []
    for item_id, (kind, ts) in strongest.items():
        age_days = (now_ms - ts) / DAY_MS
        if item_id in disliked or age_days > max_age_days:
            continue
        score = weights.get(kind, 0.0) * 0.5 ** (max(age_days, 0.0) / half_life_days)
        found.append(Pending(item_id, PENDING[kind], float(score), ts))
    return sorted(found, key=lambda p: (-p.score, -p.ts, p.item_id))
