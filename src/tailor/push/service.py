"""Push planning over the store: the audience, their probabilities, items, send times and caps.

The push log is the store's `push_sent` events (one per pushed item; a push is a distinct
(user, time)). Planning reads the events of the last `push.lookback_days` once, scores every user
in the audience with the current propensity version, and leaves out items the user was pushed
or bought within `exclude_days`. `push_events(plan, channel)` turns a plan into `push_sent`
events at the planned times; recorded, the next plan counts them against the caps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from tailor.errors import InvalidInputError
from tailor.profiles.book import user_timezone
from tailor.profiles.stages import SEGMENTS, STAGES
from tailor.profiles.view import local_hours
from tailor.propensity.features import (
    ITEM,
    before,
    pair_features,
    prepare_events,
    user_features,
)
from tailor.propensity.service import PropensityService
from tailor.propensity.training import candidate_pairs
from tailor.push.plan import DAY_MS, Candidate, Planned, PushRules, plan
from tailor.push.reasons import reason_code
from tailor.push.segments import select
from tailor.settings import Settings
from tailor.store.base import Store

HOUR_MS = 3_600_000
PUSH_SENT = "push_sent"


@dataclass(frozen=True)
class PlanRequest:
    audience: str  # "all", "segment" or "list"
    rules: PushRules
    channel: str
    segment: str | None = None
    users: tuple[str, ...] = ()
    days: int | None = None
    exclude_days: float = 7.0


class PushPlanner:
    def __init__(self, store: Store, settings: Settings, propensity: PropensityService) -> None:
        self.store = store
        self.settings = settings
        self.propensity = propensity

    def plan(self, request: PlanRequest, now: int | None = None) -> list[Planned]:
        self._check(request)
        now = now if now is not None else time.time_ns() // 1_000_000
        model = self.propensity.current()
        days = request.days or self.settings.propensity.days[0]
        if days not in model.horizons:
            raise InvalidInputError(
                f"days must be one of the trained horizons {sorted(model.horizons)}", field="days"
            )
        horizon = model.horizons[days]
        lookback = self.settings.push.lookback_days * DAY_MS
        # no upper bound: pushes already planned for later are in the log too
        raw = self.store.events(
            since=now - lookback,
            user_ids=list(request.users) if request.audience == "list" else None,
        )
        pushes = raw[raw["kind"] == PUSH_SENT]
        frame = prepare_events(raw, self.store.items())
        past = before(frame, now)
        users = user_features(past, self.settings.profiles)
        if users.empty:
            return []
        probability = horizon.user.predict(users)
        table = _segment_table(users, probability, raw)
        if request.audience == "segment":
            table = table[select(table, request.segment or "")]
        audience = set(table.index)
        pairs = candidate_pairs(past[past["user_id"].isin(audience)], self.settings, None)
        pairs = (
            pairs[pairs["level"] == ITEM]
            .groupby("user_id")
            .head(self.settings.push.candidate_items)
        )
        if pairs.empty:  # nothing in anyone's reach to push
            return []
        scored = pair_features(
            past,
            pairs,
            users,
            model.popularity,
            model.intervals,
            frame.drop_duplicates("item_id").set_index("item_id")["category"],
        )
        scored["probability"] = horizon.pair.predict(scored)
        candidates = _candidates(scored)
        logs = {u: sorted(set(ts)) for u, ts in pushes.groupby("user_id")["ts"]}
        excluded = _excluded(raw, now - int(request.exclude_days * DAY_MS))
        zones = self._timezones(sorted(audience))
        hours = _utc_hours(raw[raw["ts"] < now])
        rows = [
            (
                u,
                float(table.at[u, "probability"]),
                local_hours(hours.get(u, [0] * 24), zones[u], now),
                zones[u],
            )
            for u in table.index
        ]
        planned = plan(rows, candidates, logs, excluded, request.rules, now)
        return [replace(p, segment=str(table.at[p.user_id, "segment"])) for p in planned]

    def _check(self, request: PlanRequest) -> None:
        limit = self.settings.push.max_k
        if not 1 <= request.rules.k <= limit:
            raise InvalidInputError(
                f"k must be between 1 and {limit}, got {request.rules.k}", field="k"
            )
        if request.audience == "segment" and not request.segment:
            raise InvalidInputError(
                "audience 'segment' needs a segment expression", field="segment"
            )
        if request.audience == "list" and not request.users:
            raise InvalidInputError("audience 'list' needs users", field="users")

    def _timezones(self, user_ids: list[str]) -> dict[str, str]:
        default = self.settings.profiles.default_timezone
        zones = dict.fromkeys(user_ids, default)
        if user_ids:
            found = self.store.users(user_ids)
            for user_id, attributes in zip(found["user_id"], found["attributes"]):
                zones[str(user_id)] = user_timezone(attributes, default)
        return zones


def _segment_table(users: pd.DataFrame, probability: np.ndarray, raw: pd.DataFrame) -> pd.DataFrame:
    """One row per user with the fields segment expressions read (see `tailor.push.segments`)."""
    channels = raw[raw["kind"] != PUSH_SENT].dropna(subset=["channel"])
    preferred = channels.groupby(["user_id", "channel"]).size().reset_index(name="n")
    preferred = preferred.sort_values(["user_id", "n", "channel"], ascending=[True, False, True])
    preferred = preferred.drop_duplicates("user_id").set_index("user_id")["channel"]
    return pd.DataFrame(
        {
            "stage": [STAGES[int(c)] for c in users["lifecycle_stage"]],
            "segment": [SEGMENTS[int(c)] for c in users["rfm_segment"]],
            "channel": preferred.reindex(users.index).fillna("").to_numpy(),
            "probability": probability,
            "recency_days": users["days_since_last_purchase"].to_numpy(),
            "last_seen_days": users["days_since_last_event"].to_numpy(),
            "frequency": users["n_purchase_30d"].to_numpy(),
            "monetary": users["monetary"].to_numpy(),
            "events_30d": users[
                [c for c in users.columns if c.endswith("_30d") and c.startswith("n_")]
            ]
            .sum(axis=1)
            .to_numpy(),
        },
        index=users.index,
    )


def _candidates(scored: pd.DataFrame) -> dict[str, list[Candidate]]:
    out: dict[str, list[Candidate]] = {}
    codes = reason_code(scored)
    for user_id, item_id, p, code in zip(
        scored["user_id"], scored["target"], scored["probability"], codes
    ):
        out.setdefault(str(user_id), []).append(Candidate(str(item_id), round(float(p), 6), code))
    return out


def _excluded(raw: pd.DataFrame, since: int) -> dict[str, set[str]]:
    """Items each user was pushed or bought since `since`."""
    recent = raw[(raw["ts"] >= since) & raw["kind"].isin((PUSH_SENT, "purchase"))].dropna(
        subset=["item_id"]
    )
    return {str(u): set(items) for u, items in recent.groupby("user_id")["item_id"]}


def _utc_hours(raw: pd.DataFrame) -> dict[str, list[int]]:
    """Each user's events per UTC hour of the day (their own events, not pushes)."""
    own = raw[~raw["kind"].str.startswith("push_")]
    counts = own.groupby(["user_id", (own["ts"] // HOUR_MS) % 24]).size()
    hours: dict[str, list[int]] = {}
    for (user_id, hour), n in counts.items():
        hours.setdefault(str(user_id), [0] * 24)[int(hour)] = int(n)
    return hours


def push_events(planned: list[Planned], channel: str) -> list[dict]:
    """The `push_sent` events of a plan, one per pushed item, at the planned send times."""
    return [
        {
            "event_id": f"push-{p.user_id}-{p.send_at}-{c.item_id}",
            "user_id": p.user_id,
            "item_id": c.item_id,
            "kind": PUSH_SENT,
            "ts": p.send_at,
            "channel": channel,
        }
        for p in planned
        for c in p.items
    ]
