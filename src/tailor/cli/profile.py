"""`tailor profile USER_ID`: a user's profile as a table (zh or en), or as JSON."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.engine import Engine
from tailor.settings import load_settings

HEADINGS = {
    "zh": {
        "title": "用户画像",
        "lifecycle": "生命周期",
        "segment": "RFM 分群",
        "rfm": "最近/频次/金额",
        "categories": "偏好类目",
        "brands": "偏好品牌",
        "tags": "偏好标签",
        "price": "价格带",
        "channel": "常用渠道",
        "hours": "活跃时段",
        "intents": "近期搜索",
        "keywords": "兴趣关键词",
        "days": "天前",
        "never": "未购买",
    },
    "en": {
        "title": "profile",
        "lifecycle": "lifecycle",
        "segment": "RFM segment",
        "rfm": "recency / frequency / monetary",
        "categories": "top categories",
        "brands": "top brands",
        "tags": "top tags",
        "price": "price band",
        "channel": "channel",
        "hours": "active hours",
        "intents": "recent searches",
        "keywords": "interest keywords",
        "days": "days ago",
        "never": "no purchase",
    },
}


class Lang(str, Enum):
    zh = "zh"
    en = "en"


def profile(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="the user")],
    lang: Annotated[Lang, typer.Option(help="language of the labels")] = Lang.en,
    json_out: Annotated[bool, typer.Option("--json", help="print the profile as JSON")] = False,
    at: Annotated[
        int | None, typer.Option(help="as of this time, ms since the epoch (default: now)")
    ] = None,
) -> None:
    """A user's profile (用户画像): interests, price band, activity, lifecycle, channel, hours."""
    with Engine(load_settings(ctx.find_root().obj)) as engine:
        answer = engine.profiles.profile(user_id, lang.value, now=at)
    if json_out:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=1))
        return
    console.print(profile_table(answer))


def _weighted(rows: list[dict]) -> str:
    return ", ".join(f"{r['label']} ({r['weight']:.2f})" for r in rows)


def profile_table(answer: dict) -> Table:
    words = HEADINGS[answer["lang"]]
    activity, band = answer["activity"], answer["price_band"]
    recency = (
        f"{activity['recency_days']} {words['days']}"
        if activity["recency_days"] is not None
        else words["never"]
    )
    table = Table(
        show_header=False, title=f"{words['title']} {answer['user_id']}", caption=answer["summary"]
    )
    rows = [
        ("lifecycle", answer["lifecycle"]["label"]),
        ("segment", activity["segment_label"]),
        ("rfm", f"{recency} / {activity['frequency']} / {activity['monetary']:,.2f}"),
        ("categories", _weighted(answer["top_categories"])),
        ("brands", _weighted(answer["top_brands"])),
        ("tags", _weighted(answer["top_tags"])),
        (
            "price",
            f"{band['label'] or '-'} (p50 {band['viewed']['p50']} / {band['bought']['p50']})",
        ),
        ("channel", answer["channel"]["preferred"] or "-"),
        (
            "hours",
            ", ".join(f"{h}:00" for h in answer["hours"]["preferred"])
            + f" ({answer['hours']['timezone']})",
        ),
        ("intents", ", ".join(answer["search_intents"])),
        ("keywords", ", ".join(answer["interest"]["keywords"])),
    ]
    for key, value in rows:
        table.add_row(words[key], value)
    return table
