"""`tailor push plan`, and `tailor report push` (registered on the `report` group)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli import distributed as ray_cli
from tailor.cli.output import console
from tailor.engine import Engine
from tailor.errors import InvalidInputError
from tailor.push.request import PushPlanIn, plan_rows
from tailor.settings import load_settings

push_app = typer.Typer(no_args_is_help=True, help="Personalised push: plan who gets what, when.")


def _engine(ctx: typer.Context) -> Engine:
    return Engine(load_settings(ctx.find_root().obj))


@push_app.command("plan")
def plan(
    ctx: typer.Context,
    channel: Annotated[str, typer.Option(help="app, web, mini-program, sms, ...")],
    out: Annotated[Path, typer.Option(help="plan.jsonl or plan.csv")],
    audience: Annotated[str, typer.Option(help="all, segment or list")] = "all",
    segment: Annotated[
        str | None, typer.Option(help="e.g. 'stage = active and probability >= 0.2'")
    ] = None,
    users: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="user ids, one a line")
    ] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="items per push")] = 3,
    per_day: Annotated[int, typer.Option(help="most pushes per user in 24 hours")] = 1,
    per_week: Annotated[int, typer.Option(help="most pushes per user in 7 days")] = 3,
    quiet: Annotated[str, typer.Option(help="quiet local hours START-END, e.g. 22-8")] = "22-8",
    min_probability: Annotated[float, typer.Option(help="least P(user buys within days)")] = 0.0,
    exclude_days: Annotated[
        float, typer.Option(help="skip items pushed or bought this recently")
    ] = 7.0,
    days: Annotated[int | None, typer.Option(help="propensity horizon")] = None,
    at: Annotated[int | None, typer.Option(help="plan as of (ms since the epoch)")] = None,
    record: Annotated[bool, typer.Option(help="write the plan to the push log")] = False,
    lang: Annotated[str, typer.Option(help="zh or en reasons")] = "en",
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="plan over user shards on the Ray cluster at ADDRESS"),
    ] = None,
) -> None:
    """Plan pushes and write them to --out (JSONL, or CSV with one row per user and item)."""
    if out.suffix not in (".jsonl", ".csv"):
        raise InvalidInputError("--out must end in .jsonl or .csv", field="out")
    start, _, end = quiet.partition("-")
    if not (start.isdigit() and end.isdigit()):
        raise InvalidInputError("--quiet must look like 22-8 (local hours)", field="quiet")
    ids = (
        [line.strip() for line in users.read_text(encoding="utf-8").splitlines() if line.strip()]
        if users
        else None
    )
    body = PushPlanIn(
        audience=audience,
        segment=segment,
        users=ids,
        channel=channel,
        k=k,
        per_day=per_day,
        per_week=per_week,
        quiet_start=int(start),
        quiet_end=int(end),
        min_probability=min_probability,
        exclude_days=exclude_days,
        days=days,
        at=at,
        record=record,
        lang=lang,
    )
    with _engine(ctx) as engine:
        planned = (
            engine.plan_push(body.to_request(), now=at, record=record)
            if ray is None
            else ray_cli.plan_push(engine, ray, body.to_request(), at, record)
        )
        rows = plan_rows(planned, channel, lang)
    _write(rows, out)
    console.print(
        f"wrote pushes for {len(rows):,} users to {out}" + (" (recorded)" if record else "")
    )


def _write(rows: list[dict], out: Path) -> None:
    if out.suffix == ".jsonl":
        with open(out, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        return
    with open(out, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "user_id",
                "channel",
                "send_at",
                "local_time",
                "user_probability",
                "rank",
                "item_id",
                "item_probability",
                "reason",
            ]
        )
        for r in rows:
            for rank, item in enumerate(r["items"], 1):
                writer.writerow(
                    [
                        r["user_id"],
                        r["channel"],
                        r["send_at"],
                        r["local_time"],
                        r["probability"],
                        rank,
                        item["item_id"],
                        item["probability"],
                        item["reason"],
                    ]
                )


def report_push(
    ctx: typer.Context,
    days: Annotated[float | None, typer.Option(help="only pushes of the last N days")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Push outcomes per channel: sent, delivered, opened, clicked, and purchases they led to."""
    import time

    since = None if days is None else time.time_ns() // 1_000_000 - int(days * 86_400_000)
    with _engine(ctx) as engine:
        rows = engine.push_report(since)
    if json_out:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        console.print("no pushes recorded yet (push_sent events)")
        return
    table = Table(*rows[0].keys(), title="push outcomes")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)
