"""The `tailor` commands: each is a few lines over the engine."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from tailor.cli import distributed as ray_cli
from tailor.cli import privacy as privacy_cli
from tailor.cli import propensity as propensity_cli
from tailor.cli import reviews as reviews_cli
from tailor.cli.config_template import CONFIG_TEMPLATE
from tailor.cli.forecast import forecast as forecast_command
from tailor.cli.keys import keys_app, print_access, print_new_key, replace_demo_key
from tailor.cli.output import (
    console,
    errors,
    metrics_table,
    print_rejections,
    print_skipped,
    recommendations_table,
    rows_bar,
    step_bar,
)
from tailor.cli.profile import profile as profile_command
from tailor.cli.push import push_app, report_push
from tailor.cli.report import report_app
from tailor.cli.risk import risk_app
from tailor.engine import Engine, Evaluation, Recommendation
from tailor.errors import TailorError
from tailor.ingest.writer import ImportReport
from tailor.settings import DEFAULT_CONFIG_FILE, Settings, load_settings


class _Commands(TyperGroup):
    """Prints Tailor's errors as one line a person can act on, and exits with status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TailorError as exc:
            # escaped: a message such as "pip install 'tailor[ray]'" is not markup
            errors.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    help="Tailor: self-hosted personalization for online shops.",
)
import_app = typer.Typer(
    no_args_is_help=True,
    help="Load events, items, users, a public dataset or the FAQ into the store.",
)
app.add_typer(import_app, name="import")
app.add_typer(keys_app, name="keys")
app.add_typer(report_app, name="report")
app.command("profile")(profile_command)
app.command("forecast")(forecast_command)
app.add_typer(push_app, name="push")
app.add_typer(risk_app, name="risk")
report_app.command("push")(report_push)
privacy_cli.install(app)


class FileFormat(str, Enum):
    csv = "csv"
    tsv = "tsv"
    jsonl = "jsonl"
    parquet = "parquet"


class Subject(str, Enum):
    recommenders = "recommenders"
    propensity = "propensity"
    reviews = "reviews"


WHAT = typer.Argument(
    help="recommenders (the default), propensity (purchase prediction) or reviews (review sentiment)"
)


class DatasetName(str, Enum):
    amazon = "amazon"
    movielens = "movielens"
    taobao = "taobao"
    otto = "otto"


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="settings file (default: ./tailor.toml when present)"),
    ] = None,
) -> None:
    ctx.obj = config


def _settings(ctx: typer.Context) -> Settings:
    return load_settings(ctx.find_root().obj)


@contextlib.contextmanager
def _engine(ctx: typer.Context) -> Iterator[Engine]:
    engine = Engine(_settings(ctx))
    try:
        yield engine
    finally:
        engine.close()


# ---- setup and data --------------------------------------------------------------------------


@app.command()
def init(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="overwrite an existing settings file")] = False,
) -> None:
    """Write a commented tailor.toml (or the --config path) and create the store it names."""
    path = ctx.find_root().obj or DEFAULT_CONFIG_FILE
    if path.exists() and not force:
        console.print(f"{path} exists; keeping it (--force overwrites it)")
    else:
        path.write_text(CONFIG_TEMPLATE, encoding="utf-8")
        console.print(f"wrote {path}")
    settings = load_settings(path)
    with _engine(ctx) as engine:
        counts = engine.store.counts()
    settings.artifacts_dir.mkdir(parents=True, exist_ok=True)
    console.print(
        f"store ready at {settings.store_url} ({counts['events']:,} events, "
        f"{counts['items']:,} items); artifacts go to {settings.artifacts_dir}"
    )


def _table_command(table: str) -> Callable[..., None]:
    def command(
        ctx: typer.Context,
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, help="CSV, TSV, JSONL or Parquet")
        ],
        format: Annotated[
            FileFormat | None, typer.Option(help="default: from the file extension")
        ] = None,
        map: Annotated[
            list[str] | None,
            typer.Option(
                "--map",
                help="canonical=source: read a canonical column from another name; repeatable",
            ),
        ] = None,
    ) -> None:
        from tailor.ingest.files import import_file

        with _engine(ctx) as engine, rows_bar(f"importing {table}") as progress:
            report = import_file(
                engine.store,
                table,
                file,
                settings=engine.settings.ingest,
                mapping=_parse_mapping(map or []),
                fmt=format.value if format else None,
                progress=progress,
            )
        _print_import(report)

    return command


for _table, _help in (
    ("events", "Import events; invalid rows are listed, valid ones kept, known event_ids skipped."),
    ("items", "Import or update catalogue items; invalid rows are listed, valid ones kept."),
    ("users", "Import or update users; invalid rows are listed, valid ones kept."),
):
    import_app.command(_table, help=_help)(_table_command(_table))


@import_app.command("dataset")
def import_dataset(
    ctx: typer.Context,
    name: Annotated[DatasetName, typer.Argument(help="which public dataset")],
    path: Annotated[Path, typer.Argument(exists=True, help="its file or folder on this machine")],
) -> None:
    """Import a public dataset (amazon, movielens, taobao, otto) from a local copy."""
    from tailor.ingest.datasets import import_dataset as load

    with _engine(ctx) as engine, rows_bar(f"importing {name.value}") as progress:
        report = load(engine.store, name.value, path, engine.settings.ingest, progress=progress)
    _print_import(report)


@import_app.command("faq")
def import_faq(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV or Markdown (.md)")
    ],
) -> None:
    """Import the shop's FAQ for the assistant; bad entries are listed by line, good ones kept."""
    from tailor.assistant import import_faq as load

    with _engine(ctx) as engine:
        result = load(engine.store, file)
    console.print(result.summary())
    print_rejections(result.rejections, first_row=1)


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        canonical, sep, source = pair.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise typer.BadParameter(f"expected canonical=source, got {pair!r}", param_hint="--map")
        mapping[canonical.strip()] = source.strip()
    return mapping


def _print_import(report: ImportReport) -> None:
    console.print(report.summary())
    print_rejections(report.rejections, first_row=1)


# ---- models ----------------------------------------------------------------------------------


@app.command()
def train(
    ctx: typer.Context,
    what: Annotated[Subject, WHAT] = Subject.recommenders,
    evaluate: Annotated[
        bool, typer.Option(help="measure the models on a time holdout first (fits them twice)")
    ] = True,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="train on the Ray cluster at this address (host:port, ray://host:port, auto); "
            "needs the ray extra: pip install 'tailor\\[ray]'",
        ),
    ] = None,
    ray_events: Annotated[
        Path | None,
        typer.Option("--ray-events", help="with --ray: read the events from this Parquet export"),
    ] = None,
    search: Annotated[
        list[str] | None,
        typer.Option(
            help="with --ray: try model.param=v1,v2 as parallel trials, train with the best; "
            "repeatable"
        ),
    ] = None,
) -> None:
    """Evaluate the configured models on a time holdout, fit them on all events, publish a new version."""
    if ray is None and (ray_events is not None or search):
        raise typer.BadParameter("--ray-events and --search need --ray ADDRESS")
    if what is Subject.propensity:
        with _engine(ctx) as engine:
            return propensity_cli.train(engine)
    if what is Subject.reviews:
        with _engine(ctx) as engine:
            return reviews_cli.train(engine)
    start = time.perf_counter()
    with _engine(ctx) as engine, step_bar("training") as progress:
        manifest = (
            engine.train(progress, evaluate=evaluate)
            if ray is None
            else ray_cli.train(engine, ray, ray_events, search or [], progress, evaluate)
        )
    if manifest.metrics:
        console.print(metrics_table(manifest.metrics, manifest.evaluation))
    print_skipped(manifest.skipped)
    console.print(
        f"model version {manifest.version} is current: {manifest.n_users:,} users, "
        f"{manifest.n_items:,} items, {manifest.n_events:,} events, "
        f"{time.perf_counter() - start:.1f} s, peak memory {manifest.peak_rss_mb:,.0f} MB"
    )


@app.command()
def evaluate(
    ctx: typer.Context,
    what: Annotated[Subject, WHAT] = Subject.recommenders,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="also write the metrics to this JSON file")
    ] = None,
    days: Annotated[
        int | None, typer.Option(help="propensity: horizon (default: the first of propensity.days)")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="propensity: reliability diagram file (.svg)")
    ] = None,
) -> None:
    """Measure every configured model and their blend on a time holdout (the latest 10% of events)."""
    if what is Subject.propensity:
        with _engine(ctx) as engine:
            return propensity_cli.evaluate(engine, days, plot, json_out)
    if what is Subject.reviews:
        with _engine(ctx) as engine:
            return reviews_cli.evaluate(engine, json_out)
    start = time.perf_counter()
    with _engine(ctx) as engine, step_bar("evaluating") as progress:
        evaluation = engine.evaluate(progress)
    seconds = time.perf_counter() - start
    console.print(metrics_table(evaluation.metrics, evaluation.protocol))
    print_skipped(evaluation.skipped)
    if json_out is not None:
        json_out.write_text(
            json.dumps(_evaluation_json(evaluation, seconds), indent=1), encoding="utf-8"
        )
        console.print(f"wrote {json_out}")


def _evaluation_json(evaluation: Evaluation, seconds: float) -> dict[str, Any]:
    rows = [
        {"model": name, **metrics, "fit_seconds": evaluation.fit_seconds.get(name)}
        for name, metrics in evaluation.metrics.items()
    ]
    protocol = {**evaluation.protocol, "skipped_models": evaluation.skipped}
    return {"protocol": {**protocol, "wall_seconds": round(seconds, 3)}, "rows": rows}


# ---- answers ---------------------------------------------------------------------------------


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="default: service.host from the settings")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="default: service.port from the settings")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="server processes on the port, one per core; the kernel spreads connections"
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs); a newly trained version is picked up while running."""
    _serve(_settings(ctx), host, port, workers)


def _serve(settings: Settings, host: str | None, port: int | None, workers: int = 1) -> None:
    import uvicorn

    from tailor.service import create_app
    from tailor.service.logs import configure_json_logging
    from tailor.service.workers import serve_workers

    host, port = host or settings.service.host, port or settings.service.port
    with Engine(settings) as engine:  # opened here so a bad store URL is reported in one line
        console.print(
            f"serving on http://{host}:{port} (API docs at http://{host}:{port}/docs) with "
            f"{workers} worker process{'es' if workers > 1 else ''}; Ctrl+C stops; one JSON log "
            "line per request on stderr",
            soft_wrap=True,
        )
        print_access(settings, engine.store)
        if workers == 1:
            configure_json_logging()
            uvicorn.run(
                create_app(settings, engine),
                host=host,
                port=port,
                log_level="warning",
                log_config=None,
                access_log=False,
            )
            return
    if not settings.cache.redis_url:
        console.print(
            "[yellow]warning:[/yellow] without [cache] redis_url each worker keeps its own rate-limit "
            "buckets, and a catalogue write (stock, price, withdrawal) reaches only the worker that "
            "took it until a new model version loads; set redis_url to share them",
            soft_wrap=True,
        )
    serve_workers(settings, host, port, workers)  # each worker opens an engine of its own


@app.command()
def recommend(
    ctx: typer.Context,
    user_id: Annotated[str | None, typer.Argument(help="the user to recommend for")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="how many items")] = 10,
    category: Annotated[
        str | None, typer.Option(help="only items in this category path or below")
    ] = None,
    users: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="batch mode: a file with one user id per line"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="batch mode: write JSONL here instead of stdout")
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", help="batch mode: shard the users over the Ray cluster at ADDRESS"),
    ] = None,
) -> None:
    """Recommend for one user (a table), or with --users for many (JSONL: user_id, items, scores, reasons)."""
    if (user_id is None) == (users is None):
        raise typer.BadParameter("give either USER_ID or --users FILE")
    with _engine(ctx) as engine:
        engine.load()
        if user_id is not None:
            console.print(
                recommendations_table(user_id, engine.recommend(user_id, k, category=category))
            )
            return
        ids = [
            line.strip() for line in users.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        answers = (
            engine.recommend_many(ids, k, category=category)
            if ray is None
            else ray_cli.recommend_many(engine, ray, ids, k, category)
        )
        lines = (_recs_line(uid, recs) for uid, recs in answers)
        if out is None:
            for line in lines:
                typer.echo(line)
            return
        with open(out, "w", encoding="utf-8") as handle:
            handle.writelines(line + "\n" for line in lines)
    console.print(f"wrote recommendations for {len(ids):,} users to {out}")


def _recs_line(user_id: str, recs: list[Recommendation]) -> str:
    return json.dumps(
        {
            "user_id": user_id,
            "items": [r.item_id for r in recs],
            "scores": [round(r.score, 6) for r in recs],
            "reasons": [r.reason for r in recs],
        },
        ensure_ascii=False,
    )


@app.command()
def demo(
    ctx: typer.Context,
    users: Annotated[int, typer.Option(help="synthetic shoppers")] = 3000,
    items: Annotated[int, typer.Option(help="synthetic products")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed of the synthetic shop")] = 0,
    port: Annotated[
        int | None, typer.Option(help="default: service.port from the settings")
    ] = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="serve the API after evaluating")
    ] = True,
) -> None:
    """Generate a synthetic shop, train recommenders and purchase prediction, print metrics, serve.

    The shop's 60 days of history end today. With service.auth on, a new admin key named demo is
    printed once, in place of the last one."""
    from tailor.ingest.demo import demo_shop

    with _engine(ctx) as engine:
        with console.status("generating the synthetic shop and storing it"):
            shop = demo_shop(users, items, seed)
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            result = engine.ingest_events(shop.events)
        console.print(
            f"shop: {len(shop.items):,} items, {len(shop.users):,} users, "
            f"{result.accepted:,} new events ({result.duplicates:,} already stored)"
        )
        print_rejections(result.rejected)
        with step_bar("training") as progress:
            manifest = engine.train(progress)
        console.print(metrics_table(manifest.metrics, manifest.evaluation))
        print_skipped(manifest.skipped)
        propensity_cli.train(engine)
        reviews_cli.train(engine, required=False)
        sample_user = str(shop.users["user_id"].iloc[0])
        console.print(recommendations_table(sample_user, engine.recommend(sample_user, 5)))
        console.print(f"model version {manifest.version}")
        settings = engine.settings
        if serve_after and settings.service.auth:
            print_new_key(*replace_demo_key(engine.store))
    if serve_after:
        base = f"http://{settings.service.host}:{port or settings.service.port}"
        auth = ' -H "Authorization: Bearer $TAILOR_KEY"' if settings.service.auth else ""
        console.print(
            ("export TAILOR_KEY=<the key above>, then try" if auth else "try")
            + ", once it serves:\n"
            f"  curl{auth} '{base}/v1/users/{sample_user}/recommendations?k=5'\n"
            f"  curl{auth} -X POST {base}/v1/events -H 'content-type: application/json' "
            f'-d \'{{"user_id": "{sample_user}", "item_id": "i1", "kind": "cart"}}\'\n'
            f"  curl{auth} '{base}/v1/items/i1/similar?k=5'",
            soft_wrap=True,
        )
        _serve(settings, None, port)
