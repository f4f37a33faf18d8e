"""The shop `tailor demo` builds: the synthetic shop with its history ending today, so purchase
predictions, lifecycle stages and trending lists are current when it is served."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tailor.ingest.synthetic import SyntheticShop, generate_shop

DEMO_DAYS = 60


def demo_shop(n_users: int, n_items: int, seed: int = 0) -> SyntheticShop:
    """`generate_shop` over the DEMO_DAYS days up to midnight UTC today."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DEMO_DAYS)
    return generate_shop(n_users, n_items, days=DEMO_DAYS, seed=seed, start=start)
