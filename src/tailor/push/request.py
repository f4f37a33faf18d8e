"""The push-plan request as the HTTP API and the CLI take it, and the plan as they return it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from tailor.ingest.fields import MAX_TS_MS
from tailor.push.plan import Planned, PushRules
from tailor.push.reasons import reason_text
from tailor.push.service import PlanRequest


class PushPlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    audience: Literal["all", "segment", "list"] = "all"
    segment: str | None = Field(None, description="e.g. `stage = active and probability >= 0.2`")
    users: list[str] | None = Field(None, description="the audience 'list'")
    channel: str = Field(min_length=1, description="app, web, mini-program, sms, ...")
    k: int = Field(3, ge=1, description="items per push (at most push.max_k)")
    per_day: int = Field(1, ge=0, description="most pushes per user in any 24 hours")
    per_week: int = Field(3, ge=0, description="most pushes per user in any 7 days")
    quiet_start: int = Field(22, ge=0, le=23, description="local hour quiet time starts")
    quiet_end: int = Field(8, ge=0, le=23, description="local hour it ends (= start: none)")
    min_probability: float = Field(0.0, ge=0, le=1, description="least P(user buys within days)")
    exclude_days: float = Field(
        7.0, ge=0, le=3650, description="leave out items pushed or bought this recently"
    )
    days: int | None = Field(
        None, ge=1, description="propensity horizon (default: the first trained)"
    )
    at: int | None = Field(
        None, ge=0, lt=MAX_TS_MS, description="plan as of (ms since the epoch); default now"
    )
    record: bool = Field(False, description="write the plan to the push log as push_sent events")
    lang: Literal["zh", "en"] = "en"

    def to_request(self) -> PlanRequest:
        return PlanRequest(
            audience=self.audience,
            rules=PushRules(
                k=self.k,
                per_day=self.per_day,
                per_week=self.per_week,
                quiet_start=self.quiet_start,
                quiet_end=self.quiet_end,
                min_probability=self.min_probability,
            ),
            channel=self.channel,
            segment=self.segment,
            users=tuple(self.users or ()),
            days=self.days,
            exclude_days=self.exclude_days,
        )


def plan_request_model(max_k: int) -> type[PushPlanIn]:
    """`PushPlanIn` with `k` bounded by `push.max_k`, so the API schema states the limit."""
    return create_model(
        "PushPlanIn",
        __base__=PushPlanIn,
        k=(int, Field(3, ge=1, le=max_k, description="items per push")),
    )


def plan_rows(planned: list[Planned], channel: str, lang: str) -> list[dict]:
    """JSON-ready rows: per user the send time, probability and items with their reasons."""
    return [
        {
            "user_id": p.user_id,
            "channel": channel,
            "send_at": p.send_at,
            "local_time": p.local_time,
            "probability": round(p.probability, 6),
            "segment": p.segment,
            "items": [
                {
                    "item_id": c.item_id,
                    "probability": c.probability,
                    "reason_code": c.reason,
                    "reason": reason_text(c.reason, c.probability, lang),
                }
                for c in p.items
            ],
        }
        for p in planned
    ]
