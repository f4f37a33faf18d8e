"""Settings of the small shop the assistant tests use."""

from __future__ import annotations

from pathlib import Path

from tailor.settings import Settings, load_settings


def shop_settings(folder: Path, **overrides: object) -> Settings:
    return load_settings(
        None,
        store_url=f"sqlite:///{folder}/shop.db",
        artifacts_dir=str(folder / "artifacts"),
        train={"models": ["popular"]},
        service={"auth": False},
        **overrides,
    )
