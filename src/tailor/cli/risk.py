"""`tailor risk users`: users by risk score, with the reasons, from the stored events."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.engine import Engine
from tailor.errors import InvalidInputError
from tailor.risk import score_users
from tailor.settings import load_settings

risk_app = typer.Typer(
    no_args_is_help=True, help="Risk control: bots, fake orders, rings, coupon abuse."
)


@risk_app.command("users")
def users(
    ctx: typer.Context,
    min_score: Annotated[
        float | None, typer.Option(help="least score listed (default: risk.min_score)")
    ] = None,
    limit: Annotated[int, typer.Option(help="most users listed")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
    lang: Annotated[str, typer.Option(help="zh or en reasons in the table")] = "en",
) -> None:
    """Score every user from the stored events and list the riskiest."""
    if lang not in ("zh", "en"):
        raise InvalidInputError("--lang must be zh or en", field="lang")
    with Engine(load_settings(ctx.find_root().obj)) as engine:
        settings = engine.settings.risk
        threshold = settings.min_score if min_score is None else min_score
        if not 0.0 <= threshold <= 1.0:
            raise InvalidInputError("--min-score must be between 0 and 1", field="min_score")
        scores = score_users(engine.store.events(), engine.store.users(), settings)
    listed = [s for s in scores if s.score >= threshold][:limit]
    if as_json:
        for score in listed:
            typer.echo(json.dumps(asdict(score), ensure_ascii=False))
        return
    table = Table(title=f"users scoring at least {threshold:g} ({len(listed)} listed)")
    for column in ("user", "score", "reasons"):
        table.add_column(column)
    for score in listed:
        reasons = "; ".join(getattr(r, lang) for r in score.reasons)
        table.add_row(score.user_id, f"{score.score:.2f}", reasons)
    console.print(table)
