"""`tailor train propensity` and `tailor evaluate propensity`: purchase prediction from the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from rich.table import Table

from tailor.cli.output import console, step_bar
from tailor.engine import Engine
from tailor.evaluation.report import machine
from tailor.propensity.service import train_propensity

METRIC_COLUMNS = (
    "n",
    "positive_rate",
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "log_loss",
    "brier",
    "ece",
    "baseline_auc",
    "baseline_ece",
)


def train(engine: Engine) -> None:
    start = time.perf_counter()
    with step_bar("training purchase prediction") as progress:
        trained = train_propensity(engine.store, engine.settings, progress)
    console.print(
        f"propensity version {trained.version} is current: horizons {sorted(trained.horizons)} days, "
        f"{len(trained.intervals)} consumable categories, {time.perf_counter() - start:.1f} s"
    )


def evaluate(engine: Engine, days: int | None, plot: Path | None, json_out: Path | None) -> None:
    """Time-split evaluation on the stored events; prints the metrics, writes the diagram."""
    # scikit-learn's metrics take over a second to import: every other command, `serve` among
    # them, starts without them.
    from tailor.propensity.evaluation import evaluate_propensity
    from tailor.propensity.plot import save_reliability

    days = days or engine.settings.propensity.days[0]
    start = time.perf_counter()
    with console.status(f"fitting and scoring purchase prediction ({days}-day horizon)"):
        result = evaluate_propensity(
            engine.store.events(), engine.store.items(), engine.settings, days
        )
        rows = result.rows()
    table = Table(title=f"purchase prediction, {days}-day horizon (time split)")
    table.add_column("target")
    for column in METRIC_COLUMNS:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(row["target"], *(_cell(row.get(c)) for c in METRIC_COLUMNS))
    console.print(table)
    protocol = {
        **result.protocol,
        "wall_seconds": round(time.perf_counter() - start, 1),
        "machine": machine(),
    }
    for key, value in protocol.items():
        console.print(f"[bold]{key}[/bold]: {value}")
    plot = plot or Path(f"propensity-reliability-{days}d.svg")
    save_reliability(
        result.reliability(), f"reliability, {days}-day purchase, ECE {rows[0]['ece']:.3f}", plot
    )
    console.print(f"wrote the reliability diagram to {plot}")
    if json_out is not None:
        json_out.write_text(
            json.dumps({"protocol": protocol, "rows": rows}, indent=1, ensure_ascii=False),
            encoding="utf-8",
        )
        console.print(f"wrote {json_out}")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)
