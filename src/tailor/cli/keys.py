"""`tailor keys`: create, list and revoke the API keys of the HTTP service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from tailor.cli.output import console
from tailor.privacy.audit import CLI_ACTOR, audited
from tailor.service.auth import create_key, revoke_key
from tailor.settings import Role, Settings, load_settings
from tailor.store import Store, StoredKey, open_store

keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys for the HTTP service (roles: ingest, read, metrics, admin).",
)


def _store(ctx: typer.Context) -> Store:
    return open_store(load_settings(ctx.find_root().obj).store_url)


@keys_app.command("create")
def create(
    ctx: typer.Context,
    role: Annotated[Role, typer.Option(help="what the key may do; admin may do everything")],
    name: Annotated[str, typer.Option(help="who or what uses it, for `tailor keys list`")] = "",
) -> None:
    """Create a key and print it once: Tailor stores only a salted hash of it."""
    with _store(ctx) as store, audited(store, CLI_ACTOR, "create_key", f"{role.value} {name}"):
        raw, stored = create_key(store, role, name)
    print_new_key(raw, stored)


DEMO_KEY_NAME = "demo"


def replace_demo_key(store: Store) -> tuple[str, StoredKey]:
    """A new admin key for `tailor demo`; the active keys an earlier demo made are revoked."""
    for key in store.api_keys():
        if key.name == DEMO_KEY_NAME and key.revoked_at is None:
            revoke_key(store, key.key_id)
    return create_key(store, Role.admin, DEMO_KEY_NAME)


def print_new_key(raw: str, stored: StoredKey) -> None:
    console.print(f"created key {stored.key_id} with role {stored.role}; the key, shown only now:")
    typer.echo(raw)
    console.print(
        f"send it as `Authorization: Bearer <key>`; revoke it with `tailor keys revoke "
        f"{stored.key_id}`",
        soft_wrap=True,
    )


@keys_app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """Every key with its id, name, role and state (the keys themselves are not stored)."""
    with _store(ctx) as store:
        keys = store.api_keys()
    if not keys:
        console.print("no API keys yet: `tailor keys create --role read` makes one")
        return
    table = Table("id", "name", "role", "created (UTC)", "state")
    for key in keys:
        state = "active" if key.revoked_at is None else f"revoked {_when(key.revoked_at)}"
        table.add_row(key.key_id, key.name, key.role, _when(key.created_at), state)
    console.print(table)


@keys_app.command("revoke")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="the id `tailor keys list` shows")],
) -> None:
    """Revoke a key; a running server refuses it once its key cache expires."""
    with _store(ctx) as store, audited(store, CLI_ACTOR, "revoke_key", key_id):
        stored = revoke_key(store, key_id)
    seconds = load_settings(ctx.find_root().obj).service.key_cache_seconds
    console.print(
        f"key {stored.key_id} ({stored.role}) revoked at {_when(stored.revoked_at or 0)}; "
        f"running servers refuse it within {seconds:g} s"
    )


def print_access(settings: Settings, store: Store) -> None:
    """Before serving: say when every route is open, or when no key can open any."""
    if not settings.service.auth:
        console.print(
            "[yellow]service.auth is false: every route is open to anyone who can reach "
            "this port[/yellow]",
            soft_wrap=True,
        )
    elif not any(key.revoked_at is None for key in store.api_keys()):
        console.print(
            "no active API key yet: every route but /healthz will answer 401 until you run "
            "`tailor keys create --role read` (or ingest, metrics, admin)",
            soft_wrap=True,
        )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
