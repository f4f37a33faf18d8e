"""Privacy commands: `tailor erase`, `purge`, `audit`, `backup` and `restore`.

Each writes what it did to the audit log, with "cli" as the actor.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.engine import Engine
from tailor.privacy import CLI_ACTOR, audited, erase_user, parse_age, purge
from tailor.privacy import backup as backup_store
from tailor.privacy import restore as restore_store
from tailor.settings import load_settings
from tailor.store import open_store

AS_JSON = typer.Option("--json", help="print JSON instead of a table")


def erase(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="the user's id as the shop knows it")],
) -> None:
    """Erase a user now: events, profile, served lists, artifacts; prints the receipt.

    A running server also drops its in-memory caches of the user when the erasure goes through
    its DELETE /v1/users/{user_id} instead."""
    with Engine(load_settings(ctx.find_root().obj)) as engine:
        receipt = erase_user(engine, user_id, actor=CLI_ACTOR)
    typer.echo(json.dumps({**asdict(receipt), "found": receipt.found}, ensure_ascii=False))


def purge_events(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option(help="events older than this go: hours, days or weeks, e.g. 365d")
    ],
) -> None:
    """Retention: delete events older than an age (e.g. 365d); prints rows deleted per table.

    Lists served before then (and their feedback), old write-log rows, and users created before
    then who have no event left go too."""
    settings = load_settings(ctx.find_root().obj)
    age = parse_age(older_than, field="--older-than")
    with open_store(settings.store_url) as store:
        result = purge(store, age, actor=CLI_ACTOR)
    table = Table("table", "rows deleted", title=f"purged everything before {result.before}")
    for name, count in sorted(result.tables.items()):
        table.add_row(name, f"{count:,}")
    console.print(table if result.tables else f"nothing older than {result.before}")


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, help="most entries shown, newest first")] = 50,
    as_json: Annotated[bool, AS_JSON] = False,
) -> None:
    """The audit log of admin actions: erasures, purges, key management, backups and restores."""
    with open_store(load_settings(ctx.find_root().obj).store_url) as store:
        entries = store.audit_entries(limit=limit)
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(asdict(entry), ensure_ascii=False))
        return
    if not entries:
        console.print("the audit log is empty")
        return
    table = Table("time (UTC)", "actor", "action", "target", "outcome", title="audit log")
    for entry in entries:
        when = datetime.fromtimestamp(entry.ts / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(when, entry.actor, entry.action, entry.target or "", entry.outcome)
    console.print(table)


def backup(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="the backup file to write (replaced whole)")],
) -> None:
    """Back up the SQLite store to PATH, consistent while the server writes.

    Uses SQLite's online backup API and checks the copy's integrity. PostgreSQL: use pg_dump
    (docs/privacy.md)."""
    store_url = load_settings(ctx.find_root().obj).store_url
    with open_store(store_url) as store, audited(store, CLI_ACTOR, "backup", path.name):
        result = backup_store(store_url, path)
    console.print(f"backed up to {result.path}: {result.bytes:,} bytes in {result.seconds:.2f} s")


def restore(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="a file written by `tailor backup`")],
) -> None:
    """Restore the SQLite store from a backup made by `tailor backup` (stop the servers first).

    The backup's integrity is checked first. PostgreSQL: use pg_restore (docs/privacy.md)."""
    store_url = load_settings(ctx.find_root().obj).store_url
    # Logged in the restored store, after the restore: the backup's log does not hold it.
    with open_store(store_url) as store, audited(store, CLI_ACTOR, "restore", path.name):
        result = restore_store(path, store_url)
    console.print(f"restored {path} into {result.path} in {result.seconds:.2f} s")


def install(app: typer.Typer) -> None:
    app.command("erase")(erase)
    app.command("purge")(purge_events)
    app.command("audit")(audit)
    app.command("backup")(backup)
    app.command("restore")(restore)
