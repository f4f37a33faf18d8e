"""`ProfileState`: everything a profile is made from, folded in one event at a time.

Each part is a sum, a count or a top-n-by-latest-time set, so the state after folding events does
not depend on their order or on how they were split into batches: folding new events into a state
gives the state a full rebuild would give (tests hold it to that).

Time-decayed weights are kept as `w * 2**((ts - anchor) / half_life)` against the state's own
anchor time, so folding an event costs O(1) and reading at time `now` multiplies by
`2**((anchor - now) / half_life)`. When the exponent grows large the anchor moves forward.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tailor.profiles.catalogue import ItemFacts
from tailor.settings import PUSH_EVENT_KINDS

PRICE_BINS = 20
HOURS = 24
HOUR_MS = 3_600_000
PURCHASE = "purchase"
_REBASE_EXPONENT = 500.0


def _keep_latest(latest: dict[str, int], key: str, ts: int, limit: int) -> None:
    """Record `key` at `ts` (its latest time wins) and keep the `limit` latest keys."""
    if ts > latest.get(key, -1):
        latest[key] = ts
    if len(latest) > limit:
        del latest[min(latest, key=lambda k: (latest[k], k))]


@dataclass
class ProfileState:
    half_life_ms: float
    limit_items: int
    limit_queries: int
    anchor: int | None = None
    first_ts: int | None = None
    last_ts: int | None = None
    ids_at_last_ts: set[str] = field(default_factory=set)
    n_events: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    categories: dict[str, float] = field(default_factory=dict)
    brands: dict[str, float] = field(default_factory=dict)
    tags: dict[str, float] = field(default_factory=dict)
    viewed_prices: list[int] = field(default_factory=lambda: [0] * PRICE_BINS)
    bought_prices: list[int] = field(default_factory=lambda: [0] * PRICE_BINS)
    purchases: int = 0
    monetary: float = 0.0
    last_purchase_ts: int | None = None
    channels: dict[str, int] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * HOURS)
    queries: dict[str, int] = field(default_factory=dict)
    recent_items: dict[str, int] = field(default_factory=dict)

    def fold(
        self, event: Mapping[str, Any], facts: ItemFacts, weights: Mapping[str, float]
    ) -> None:
        """Add one event (a mapping with the columns of `tailor.types.EVENT_COLUMNS`)."""
        ts, kind = int(event["ts"]), str(event["kind"])
        if kind in PUSH_EVENT_KINDS:  # what the shop sent, not what the user did
            return
        self._note_time(ts, str(event["event_id"]))
        self.n_events += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        self.hours[(ts // HOUR_MS) % HOURS] += 1
        channel = event.get("channel")
        if isinstance(channel, str) and channel:
            self.channels[channel] = self.channels.get(channel, 0) + 1
        query = event.get("query")
        if isinstance(query, str) and query.strip():
            _keep_latest(self.queries, query.strip(), ts, self.limit_queries)
        item_id = event.get("item_id")
        fact = facts.get(item_id if isinstance(item_id, str) else None)
        if kind == PURCHASE:
            self._fold_purchase(ts, fact.price if fact else None, event.get("value"))
        if fact is None or (weights.get(kind, 0.0) <= 0 and kind != PURCHASE):
            return
        weight = weights.get(kind, 0.0)
        _keep_latest(self.recent_items, str(item_id), ts, self.limit_items)
        decayed = weight * self._growth(ts)
        for table, keys in (
            (self.categories, (fact.category,) if fact.category else ()),
            (self.brands, (fact.brand,) if fact.brand else ()),
            (self.tags, fact.tags),
        ):
            for key in keys:
                table[key] = table.get(key, 0.0) + decayed
        if fact.relative_price is not None:
            bins = self.bought_prices if kind == PURCHASE else self.viewed_prices
            bins[min(int(fact.relative_price * PRICE_BINS), PRICE_BINS - 1)] += 1

    def fold_all(
        self, events: Iterable[Mapping[str, Any]], facts: ItemFacts, weights: Mapping[str, float]
    ) -> None:
        for event in events:
            self.fold(event, facts, weights)

    def decayed(self, table: Mapping[str, float], now: int) -> dict[str, float]:
        """A weight table as of `now` (ms)."""
        if self.anchor is None:
            return {}
        scale = 2.0 ** ((self.anchor - now) / self.half_life_ms)
        return {key: value * scale for key, value in table.items()}

    def _note_time(self, ts: int, event_id: str) -> None:
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts, self.ids_at_last_ts = ts, {event_id}
        elif ts == self.last_ts:
            self.ids_at_last_ts.add(event_id)

    def _fold_purchase(self, ts: int, price: float | None, value: object) -> None:
        self.purchases += 1
        quantity = (
            value if isinstance(value, int | float) and math.isfinite(value) and value > 0 else 1
        )
        self.monetary += (price or 0.0) * float(quantity)
        if self.last_purchase_ts is None or ts > self.last_purchase_ts:
            self.last_purchase_ts = ts

    def _growth(self, ts: int) -> float:
        """2**((ts - anchor) / half_life), moving the anchor forward before it overflows."""
        if self.anchor is None:
            self.anchor = ts
        exponent = (ts - self.anchor) / self.half_life_ms
        if exponent > _REBASE_EXPONENT:
            shrink = 2.0**-exponent
            for table in (self.categories, self.brands, self.tags):
                for key in table:
                    table[key] *= shrink
            self.anchor, exponent = ts, 0.0
        return 2.0**exponent
