"""The planner's core, over plain data: who gets a push, with which items, and when.

A user gets one push of up to k items when their purchase probability reaches the minimum,
they have an item left after the exclusions, and sending at the chosen time keeps both caps:
at most `per_day` pushes in any 24 hours and `per_week` in any 7 days ending at the send time,
counting the push log and this push. The send time is the next start of one of the user's
preferred local hours outside the quiet hours, or the end of the quiet hours when every
preferred hour is quiet; it is never inside the quiet hours.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS


@dataclass(frozen=True)
class PushRules:
    k: int
    per_day: int
    per_week: int
    quiet_start: int  # local hour the quiet period starts (inclusive)
    quiet_end: int  # local hour it ends (exclusive); equal to start: no quiet hours
    min_probability: float = 0.0


@dataclass(frozen=True)
class Candidate:
    item_id: str
    probability: float
    reason: str  # a reason code (see tailor.push.reasons)


@dataclass(frozen=True)
class Planned:
    user_id: str
    send_at: int  # ms since the epoch
    local_time: str  # ISO time in the user's time zone
    probability: float
    items: list[Candidate] = field(default_factory=list)
    segment: str = ""  # the user's RFM segment when planned


def is_quiet(hour: int, rules: PushRules) -> bool:
    start, end = rules.quiet_start, rules.quiet_end
    if start == end:
        return False
    return start <= hour < end if start < end else hour >= start or hour < end


def send_time(now: int, hours: Sequence[int], timezone: str, rules: PushRules) -> datetime:
    """The next start of a preferred local hour outside the quiet hours (now, if such an hour is
    under way), or the end of the quiet hours; `hours` are local hours, best first."""
    zone = ZoneInfo(timezone)
    local_now = datetime.fromtimestamp(now / 1000, zone)
    allowed = [h for h in hours if not is_quiet(h, rules)]
    if not allowed:
        quiet_now = is_quiet(local_now.hour, rules)
        allowed = [local_now.hour] if not hours and not quiet_now else [rules.quiet_end]
    if local_now.hour in allowed:
        return local_now
    best: datetime | None = None
    for hour in allowed:
        start = local_now.replace(hour=hour, minute=0, second=0, microsecond=0)
        if start <= local_now:
            start = local_now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
            start = start.replace(hour=hour)
        start = datetime.fromtimestamp(start.timestamp(), zone)  # a wall time a DST change skips
        if is_quiet(start.hour, rules):
            continue
        if best is None or start < best:
            best = start
    if best is not None:
        return best
    # only hours a DST change skips were left: the next hour start outside the quiet hours
    step = local_now.replace(minute=0, second=0, microsecond=0)
    while True:
        step = datetime.fromtimestamp(step.timestamp() + 3600, zone)
        if not is_quiet(step.hour, rules):
            return step


def within_caps(log: Sequence[int], at: int, rules: PushRules) -> bool:
    """Whether one more push at `at` keeps both caps (`log`: sorted send times, ms)."""
    right = bisect.bisect_right(log, at)
    last_day = right - bisect.bisect_right(log, at - DAY_MS)
    last_week = right - bisect.bisect_right(log, at - WEEK_MS)
    later_day = bisect.bisect_right(log, at + DAY_MS - 1) - right
    later_week = bisect.bisect_right(log, at + WEEK_MS - 1) - right
    # pushes already logged after `at` count too: every window holding the new push must fit
    return (
        last_day + later_day + 1 <= rules.per_day and last_week + later_week + 1 <= rules.per_week
    )


def plan_user(
    user_id: str,
    probability: float,
    hours: Sequence[int],
    timezone: str,
    candidates: Sequence[Candidate],
    log: Sequence[int],
    excluded: set[str],
    rules: PushRules,
    now: int,
) -> Planned | None:
    """One user's push, or None when they are below the minimum, out of items, or capped."""
    if probability < rules.min_probability:
        return None
    items = [c for c in candidates if c.item_id not in excluded]
    items = sorted(items, key=lambda c: (-c.probability, c.item_id))[: rules.k]
    if not items:
        return None
    when = send_time(now, hours, timezone, rules)
    at = int(when.timestamp() * 1000)
    if not within_caps(log, at, rules):
        return None
    return Planned(user_id, at, when.isoformat(timespec="minutes"), probability, items)


def plan(
    users: Sequence[tuple[str, float, Sequence[int], str]],
    candidates: Mapping[str, Sequence[Candidate]],
    logs: Mapping[str, Sequence[int]],
    excluded: Mapping[str, set[str]],
    rules: PushRules,
    now: int,
) -> list[Planned]:
    """Plans for (user_id, probability, preferred local hours, time zone) rows."""
    out = []
    for user_id, probability, hours, timezone in users:
        planned = plan_user(
            user_id,
            probability,
            hours,
            timezone,
            candidates.get(user_id, ()),
            logs.get(user_id, ()),
            excluded.get(user_id, set()),
            rules,
            now,
        )
        if planned is not None:
            out.append(planned)
    return out
