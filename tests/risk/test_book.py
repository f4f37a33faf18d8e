"""The service's risk book: scores reused for `cache_seconds`, recomputed when events arrive."""

from __future__ import annotations

import pytest

from tailor.engine import Engine
from tailor.errors import UnknownUserError
from tailor.ingest.synthetic import generate_shop
from tailor.risk import RiskBook
from tailor.risk.attacks import inject_attacks
from tailor.settings import RiskSettings, load_settings
from tailor.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        yield store


def test_new_attackers_show_up_once_the_cache_expires(store, tmp_path):
    shop = generate_shop(120, 60, days=20, seed=2)
    attack = inject_attacks(shop.events, shop.users, "i10", n_bots=2, n_ring=0, seed=2)
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/tailor.db")
    with Engine(settings, store) as engine:
        engine.put_users(attack.users)
        engine.ingest_events(shop.events)
        cached, fresh = (
            RiskBook(RiskSettings(cache_seconds=3600)),
            RiskBook(RiskSettings(cache_seconds=0)),
        )
        assert cached.users(store) == [] and fresh.users(store) == []
        engine.ingest_events(attack.events[attack.events["user_id"].isin(attack.labels)])
        assert cached.users(store) == []
        assert {s.user_id for s in fresh.users(store)} == set(attack.labels)
        quiet = next(u for u in attack.users["user_id"] if u not in set(attack.events["user_id"]))
        assert fresh.user(store, quiet).score == 0.0 and not fresh.user(store, quiet).reasons
        with pytest.raises(UnknownUserError):
            fresh.user(store, "nobody")
