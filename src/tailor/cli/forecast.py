"""`tailor forecast`: an item's or a category's daily sales forecast, or the restock alerts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.engine import Engine
from tailor.forecast.service import MAX_DAYS, ForecastService
from tailor.settings import load_settings


def forecast(
    ctx: typer.Context,
    item_id: Annotated[str | None, typer.Argument(help="the item to forecast")] = None,
    category: Annotated[
        str | None, typer.Option(help="forecast a category path instead, e.g. '美妆 Beauty'")
    ] = None,
    restock: Annotated[
        bool, typer.Option("--restock", help="list items whose stock runs out within --days")
    ] = False,
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="horizon in days")] = 14,
    json_out: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
    out: Annotated[
        Path | None, typer.Option(help="also write the answer as JSON to this file")
    ] = None,
) -> None:
    """Daily unit sales forecast with an 80% interval (LightGBM; simple methods if sparse)."""
    if (item_id is not None) + (category is not None) + restock != 1:
        raise typer.BadParameter("give exactly one of ITEM_ID, --category or --restock")
    with Engine(load_settings(ctx.find_root().obj)) as engine:
        service = ForecastService(engine.store)
        if restock:
            answer = service.restock(days)
        elif category is not None:
            answer = service.category(category, days)
        else:
            answer = service.item(str(item_id), days)
    if out is not None:
        out.write_text(json.dumps(answer, ensure_ascii=False, indent=1), encoding="utf-8")
    if json_out:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=1))
    else:
        console.print(restock_table(answer) if restock else forecast_table(answer))


def forecast_table(answer: dict[str, Any]) -> Table:
    subject = answer.get("item_id") or answer["category"]
    table = Table(
        title=f"{subject}: {answer['days']}-day forecast ({answer['method']}), "
        f"total {answer['total']:.1f} units, {answer['level']:.0%} interval"
    )
    for column in ("date", "point", "low", "high"):
        table.add_column(column, justify="left" if column == "date" else "right")
    for step in answer["steps"]:
        table.add_row(step["date"], f"{step['point']:.2f}", f"{step['low']:g}", f"{step['high']:g}")
    return table


def restock_table(answer: dict[str, Any]) -> Table:
    table = Table(title=f"items that run out within {answer['days']} days at the forecast demand")
    for column in ("item", "category", "stock", "demand", "runs out (day)", "at high demand"):
        table.add_column(column, justify="left" if column in ("item", "category") else "right")
    for row in answer["items"]:
        table.add_row(
            row["item_id"],
            row["category"] or "",
            str(row["stock"]),
            f"{row['expected_demand']:.1f}",
            str(row["runs_out_step"]),
            str(row["runs_out_high"]),
        )
    return table
