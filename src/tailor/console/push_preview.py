"""The push page's preview: a plan computed (never recorded or sent) from the form's settings.

It runs the planner twice: with the form's caps and quiet hours, and without them, so the page can
say how many users the caps and quiet hours hold back and how many sends they move. The planner's
modules (`tailor.push`) are imported here, at request time, only once `Engine.plan_push` exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from tailor.console import charts
from tailor.console.i18n import Words
from tailor.engine import Engine
from tailor.errors import InvalidInputError

SHOWN_USERS = 20
UNCAPPED = 10_000  # per day and per week: no cap in the comparison plan


@dataclass(frozen=True)
class PushForm:
    audience: str = "all"  # "all" or "segment"
    segment: str = ""
    channel: str = "app"
    k: int = 3
    per_day: int = 1
    per_week: int = 3
    quiet_start: int = 22
    quiet_end: int = 8
    min_probability: float = 0.0

    @classmethod
    def of(cls, params: Mapping[str, str]) -> PushForm:
        """The form from query parameters; InvalidInputError names a field that is not a number."""
        values: dict[str, Any] = {}
        for name, field in cls.__dataclass_fields__.items():
            if name not in params:
                continue
            kind = type(field.default)
            try:
                values[name] = kind(params[name]) if kind is not str else params[name]
            except ValueError:
                raise InvalidInputError(f"{name} must be a number", field=name) from None
        return cls(**values)

    def check(self) -> None:
        if self.audience not in ("all", "segment"):
            raise InvalidInputError("audience must be all or segment", field="audience")
        if self.audience == "segment" and not self.segment.strip():
            raise InvalidInputError(
                "a segment audience needs a segment expression", field="segment"
            )
        for name in ("quiet_start", "quiet_end"):
            if not 0 <= getattr(self, name) <= 23:
                raise InvalidInputError(f"{name} must be an hour from 0 to 23", field=name)


def preview(engine: Engine, form: PushForm, t: Words) -> dict[str, Any]:
    """The plan under the form's rules, what the rules held back, and charts of the plan."""
    from tailor.push.plan import PushRules
    from tailor.push.service import PlanRequest

    form.check()
    rules = PushRules(
        k=form.k,
        per_day=form.per_day,
        per_week=form.per_week,
        quiet_start=form.quiet_start,
        quiet_end=form.quiet_end,
        min_probability=form.min_probability,
    )
    request = PlanRequest(
        audience=form.audience,
        rules=rules,
        channel=form.channel,
        segment=form.segment.strip() or None,
    )
    planned = engine.plan_push(request)
    open_rules = replace(rules, per_day=UNCAPPED, per_week=UNCAPPED, quiet_start=0, quiet_end=0)
    unconstrained = engine.plan_push(replace(request, rules=open_rules))
    hours = Counter(int(p.local_time[11:13]) for p in planned if len(p.local_time) >= 13)
    free_hours = {p.user_id: p.local_time[11:13] for p in unconstrained}
    moved = sum(
        1 for p in planned if free_hours.get(p.user_id, p.local_time[11:13]) != p.local_time[11:13]
    )
    segments = Counter(p.segment for p in planned)
    open_segments = Counter(p.segment for p in unconstrained)
    return {
        "segments": [
            {"segment": s, "planned": segments[s], "unconstrained": n}
            for s, n in open_segments.most_common()
        ],
        "n_users": len(planned),
        "n_items": sum(len(p.items) for p in planned),
        "n_unconstrained": len(unconstrained),
        "held_back": max(len(unconstrained) - len(planned), 0),
        "moved": moved,
        "rows": [
            {
                "user_id": p.user_id,
                "local_time": p.local_time[:16].replace("T", " "),
                "probability": p.probability,
                "items": [c.item_id for c in p.items],
            }
            for p in planned[:SHOWN_USERS]
        ],
        "hours_chart": charts.bars(
            [f"{h:02d}:00" for h in range(24)],
            [hours.get(h, 0) for h in range(24)],
            t("chart_push_hours"),
            t("axis_users"),
        ),
    }
