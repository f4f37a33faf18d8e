"""Settings and API keys for service tests."""

from __future__ import annotations

from tailor.service.auth import create_key
from tailor.settings import Role, load_settings
from tailor.store import open_store


def settings_in(folder, **service):
    return load_settings(
        store_url=f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn", "ease"]},
        service=service,
    )


def add_key(settings, role: Role = Role.admin) -> str:
    """A new API key of `role` in the settings' store."""
    with open_store(settings.store_url) as store:
        return create_key(store, role, f"tests-{role}")[0]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}
