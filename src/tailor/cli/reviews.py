"""`tailor train reviews` and `tailor evaluate reviews`: the review sentiment model from the CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tailor.cli.output import console, step_bar
from tailor.engine import Engine
from tailor.errors import InvalidInputError
from tailor.reviews import artifact, train_reviews


def train(engine: Engine, *, required: bool = True) -> None:
    """Train and publish a review model; with `required=False` (the demo), too few reviews is
    a note rather than an error."""
    start = time.perf_counter()
    try:
        with step_bar("training review sentiment") as progress:
            trained = train_reviews(engine.store, engine.settings, progress)
    except InvalidInputError as exc:
        if required:
            raise
        console.print(f"review insights not trained: {exc.message}")
        return
    console.print(
        f"review model {trained.version} is current: {trained.n_reviews:,} rated reviews "
        f"({', '.join(f'{n:,} {s}' for s, n in trained.label_counts.items())}), "
        f"{time.perf_counter() - start:.1f} s"
    )
    _print_metrics(trained.metrics)


def evaluate(engine: Engine, json_out: Path | None) -> None:
    """The held-out figures the current review model was measured with when it was trained."""
    trained = artifact.load(engine.settings.artifacts_dir)
    console.print(f"review model {trained.version}, {trained.n_reviews:,} rated reviews")
    _print_metrics(trained.metrics)
    if json_out is not None:
        body = {"protocol": {"version": trained.version}, "rows": [trained.metrics]}
        json_out.write_text(json.dumps(body, indent=1, ensure_ascii=False), encoding="utf-8")
        console.print(f"wrote {json_out}")


def _print_metrics(metrics: dict) -> None:
    if not metrics:
        console.print("not measured: too few held-out reviews of two or more kinds")
        return
    console.print(
        f"{metrics['protocol']}: accuracy {metrics['accuracy']:.3f} "
        f"(majority class {metrics['majority_accuracy']:.3f}), macro F1 {metrics['f1']:.3f} "
        f"(majority {metrics['majority_f1']:.3f}), n = {metrics['n']:,}"
    )
