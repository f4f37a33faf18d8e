from __future__ import annotations

import pytest

from tailor.ingest.synthetic import generate_shop
from tailor.risk.attacks import inject_attacks
from tailor.risk.scoring import score_users
from tailor.settings import RiskSettings

TARGET = "i40"


@pytest.fixture(scope="session")
def attacked():
    """A small synthetic shop with 4 bots and a ring of 6 fake buyers around one item."""
    shop = generate_shop(300, 60, days=20, seed=5)
    return inject_attacks(shop.events, shop.users, TARGET, n_bots=4, n_ring=6, seed=5)


@pytest.fixture(scope="session")
def scores(attacked):
    return {s.user_id: s for s in score_users(attacked.events, attacked.users, RiskSettings())}
