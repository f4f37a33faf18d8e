"""`tailor report online`: CTR and conversion per scenario and A/B variant, from feedback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.online.report import OnlineReport, Rate, online_report
from tailor.settings import load_settings
from tailor.store import open_store

report_app = typer.Typer(no_args_is_help=True, help="Reports on what the service answered.")
STDOUT = "-"


@report_app.command("online")
def online(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option(help="lists served from this UTC date or time, e.g. 2026-11-01")
    ] = None,
    until: Annotated[str | None, typer.Option(help="and before this one")] = None,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    json_file: Annotated[
        str | None,
        typer.Option("--json", help="also write the report as JSON to FILE ('-': stdout only)"),
    ] = None,
) -> None:
    """CTR and conversion per scenario and per A/B variant, with Wilson intervals.

    An item counts as shown when an impression names it (or its whole list), or when it was
    clicked or converted; lists without any feedback count as served only."""
    with open_store(load_settings(ctx.find_root().obj).store_url) as store:
        report = online_report(
            store,
            since=_ms(since, "--since"),
            until=_ms(until, "--until"),
            confidence=confidence,
        )
    as_json = json.dumps(report.to_json(), ensure_ascii=False, indent=1)
    if json_file == STDOUT:
        print(as_json)
        return
    console.print(report_table(report))
    if json_file is not None:
        Path(json_file).write_text(as_json + "\n", encoding="utf-8")


def report_table(report: OnlineReport) -> Table:
    level = f"{report.confidence:.0%}"
    table = Table(
        "scenario",
        "experiment",
        "variant",
        "served",
        "shown",
        "clicks",
        f"CTR [{level} CI]",
        "conversions",
        f"conversion [{level} CI]",
        title="online feedback per scenario and A/B variant",
        caption="shown: items with an impression, click or conversion; Wilson score intervals",
    )
    for row in report.rows:
        table.add_row(
            row.scenario if row.variant is None else "",
            row.experiment or "all",
            row.variant or "all",
            f"{row.served:,}",
            f"{row.shown:,}",
            f"{row.clicks:,}",
            _rate(row.ctr),
            f"{row.conversions:,}",
            _rate(row.conversion_rate),
        )
    if not report.rows:
        table.caption = "no lists served in this window"
    return table


def _rate(rate: Rate) -> str:
    if rate.value is None or rate.low is None or rate.high is None:
        return "-"
    return f"{rate.value:.2%} [{rate.low:.2%}, {rate.high:.2%}]"


def _ms(text: str | None, option: str) -> int | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO date or time such as 2026-11-01 or 2026-11-01T08:00, got {text!r}",
            param_hint=option,
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
