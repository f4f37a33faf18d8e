"""`describe(state, ...)`: a profile state as a person (and the ranker) reads it, in zh or en."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from tailor.profiles.catalogue import label_in
from tailor.profiles.interest import InterestSpace
from tailor.profiles.stages import (
    SEGMENTS,
    STAGES,
    label,
    lifecycle_stage,
    price_band,
    rfm_segment,
)
from tailor.profiles.state import HOURS, ProfileState
from tailor.settings import ProfileSettings

DAY_MS = 86_400_000
PREFERRED_HOURS = 3
PERCENTILES = (25, 50, 75)


@dataclass(frozen=True)
class Weighted:
    name: str  # as the shop spells it
    label: str  # in the asked language
    weight: float


@dataclass(frozen=True)
class Percentiles:
    n: int
    p25: float | None
    p50: float | None
    p75: float | None


def histogram_percentile(bins: list[int], q: float) -> float | None:
    """The q-th percentile (0..100) of values in [0, 1] binned evenly, interpolated in its bin."""
    total = sum(bins)
    if total == 0:
        return None
    target, seen, width = q / 100.0 * total, 0, 1.0 / len(bins)
    for index, count in enumerate(bins):
        if count and seen + count >= target:
            return round((index + (target - seen) / count) * width, 4)
        seen += count
    return 1.0


def _percentiles(bins: list[int]) -> Percentiles:
    p25, p50, p75 = (histogram_percentile(bins, q) for q in PERCENTILES)
    return Percentiles(n=sum(bins), p25=p25, p50=p50, p75=p75)


def _top(table: dict[str, float], n: int, lang: str) -> list[Weighted]:
    best = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [Weighted(name, label_in(name, lang), round(weight, 4)) for name, weight in best]


def _days(now: int, ts: int | None) -> float | None:
    return None if ts is None else round((now - ts) / DAY_MS, 2)


def local_hours(hours: list[int], timezone: str, now: int) -> list[int]:
    """Busiest hours of the day in the user's time zone, busiest first (UTC offset as of `now`,
    rounded to the hour)."""
    offset = datetime.fromtimestamp(now / 1000, ZoneInfo(timezone)).utcoffset()
    shift = round(offset.total_seconds() / 3600) if offset is not None else 0
    order = sorted(range(HOURS), key=lambda h: (-hours[h], h))
    return [(h + shift) % HOURS for h in order[:PREFERRED_HOURS] if hours[h] > 0]


def describe(
    user_id: str,
    state: ProfileState,
    now: int,
    settings: ProfileSettings,
    lang: str,
    *,
    timezone: str | None = None,
    interest: InterestSpace | None = None,
    with_vector: bool = False,
) -> dict:
    """The profile as a JSON-ready dict; `now` is ms since the epoch."""
    timezone = timezone or settings.default_timezone
    since_last, since_purchase = _days(now, state.last_ts), _days(now, state.last_purchase_ts)
    stage = STAGES[
        int(lifecycle_stage(_nan(_days(now, state.first_ts)), _nan(since_last), settings))
    ]
    segment = SEGMENTS[int(rfm_segment(_nan(since_purchase), state.purchases, settings))]
    viewed, bought = _percentiles(state.viewed_prices), _percentiles(state.bought_prices)
    median = bought.p50 if bought.p50 is not None else viewed.p50
    band = None if median is None else price_band(median)
    n_channels = sum(state.channels.values())
    shares = {c: round(n / n_channels, 4) for c, n in sorted(state.channels.items())}
    top = settings.top_n
    profile = {
        "user_id": user_id,
        "as_of": datetime.fromtimestamp(now / 1000, UTC).isoformat(),
        "lang": lang,
        "lifecycle": {"stage": stage, "label": label(stage, lang)},
        "activity": {
            "events": state.n_events,
            "first_seen_days_ago": _days(now, state.first_ts),
            "last_seen_days_ago": since_last,
            "recency_days": since_purchase,
            "frequency": state.purchases,
            "monetary": round(state.monetary, 2),
            "segment": segment,
            "segment_label": label(segment, lang),
        },
        "top_categories": [
            asdict(w) for w in _top(state.decayed(state.categories, now), top, lang)
        ],
        "top_brands": [asdict(w) for w in _top(state.decayed(state.brands, now), top, lang)],
        "top_tags": [asdict(w) for w in _top(state.decayed(state.tags, now), top, lang)],
        "price_band": {
            "viewed": asdict(viewed),
            "bought": asdict(bought),
            "band": band,
            "label": None if band is None else label(band, lang),
        },
        "channel": {
            "preferred": max(shares, key=lambda c: (shares[c], c)) if shares else None,
            "shares": shares,
        },
        "hours": {"timezone": timezone, "preferred": local_hours(state.hours, timezone, now)},
        "search_intents": [
            q for q, _ in sorted(state.queries.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "interest": _interest(state, interest, settings, lang, with_vector),
    }
    profile["summary"] = summary(profile, lang)
    return profile


def _nan(days: float | None) -> float:
    return np.nan if days is None else days


def _interest(
    state: ProfileState,
    space: InterestSpace | None,
    settings: ProfileSettings,
    lang: str,
    with_vector: bool,
) -> dict:
    recent = [i for i, _ in sorted(state.recent_items.items(), key=lambda kv: (-kv[1], kv[0]))]
    vector = space.vector(recent) if space is not None else None
    if vector is None:
        return {"keywords": [], "items": len(recent), "vector": None}
    return {
        "keywords": [
            label_in(w, lang) for w in space.nearest_keywords(vector, lang, settings.keywords)
        ],  # type: ignore[union-attr]
        "items": len(recent),
        "vector": [round(float(x), 5) for x in vector] if with_vector else None,
    }


def summary(profile: dict, lang: str) -> str:
    """One readable sentence: stage, segment, favourite category, price band, keywords."""
    categories = [c["label"] for c in profile["top_categories"][:2]]
    keywords = profile["interest"]["keywords"][:3]
    band = profile["price_band"]["label"]
    if lang == "zh":
        parts = [f"{profile['lifecycle']['label']}用户，{profile['activity']['segment_label']}"]
        if categories:
            parts.append("偏好" + "、".join(categories))
        if band:
            parts.append(f"价位{band}")
        if keywords:
            parts.append("兴趣：" + "、".join(keywords))
        return "；".join(parts) + "。"
    parts = [f"{profile['lifecycle']['label']} user, {profile['activity']['segment_label']}"]
    if categories:
        parts.append("likes " + " and ".join(categories))
    if band:
        parts.append(f"{band} price band")
    if keywords:
        parts.append("interests: " + ", ".join(keywords))
    return "; ".join(parts) + "."
