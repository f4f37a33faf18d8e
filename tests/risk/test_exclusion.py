"""`risk.exclude_flagged` leaves flagged users' events out of the training data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tailor.data.dataset import Dataset
from tailor.engine import Engine
from tailor.engine.train import load_dataset
from tailor.models.popular import Trending
from tailor.risk.exclusion import flagged_users, training_events
from tailor.settings import RiskSettings, load_settings
from tailor.types import DEFAULT_EVENT_WEIGHTS


def test_flagged_users_events_are_left_out_of_training(attacked):
    kept, flagged = training_events(attacked.events, attacked.users, RiskSettings())
    assert set(attacked.labels) <= flagged
    assert not kept["user_id"].isin(flagged).any()
    assert len(kept) == (~attacked.events["user_id"].isin(flagged)).sum()
    honest_events = (~attacked.events["user_id"].isin(attacked.labels)).sum()
    assert len(kept) > 0.9 * honest_events  # honest shoppers keep (nearly) all their events


def test_exclusion_can_be_switched_off(attacked):
    kept, flagged = training_events(
        attacked.events, attacked.users, RiskSettings(exclude_flagged=False)
    )
    assert kept is attacked.events and flagged == set()


def _trending_rank(events, item_id: str) -> int:
    data = Dataset.from_events(events, None, DEFAULT_EVENT_WEIGHTS)
    order = np.argsort(-Trending().fit(data).scores_, kind="stable")
    return int(np.flatnonzero(order == data.item_ids.index(item_id))[0]) + 1


def test_protection_undoes_the_attack_on_the_trending_list(attacked):
    kept, _ = training_events(attacked.events, attacked.users, RiskSettings())
    attacked_rank = _trending_rank(attacked.events, attacked.target_item)
    assert attacked_rank == 1
    assert _trending_rank(kept, attacked.target_item) > 5


def test_training_reads_the_store_without_flagged_users(tmp_path, attacked):
    settings = load_settings(store_url=f"sqlite:///{tmp_path}/tailor.db")
    with Engine(settings) as engine:
        engine.put_users(attacked.users)
        engine.ingest_events(attacked.events)
        store = engine.store
        data, _ = load_dataset(store, settings)
        assert not set(attacked.labels) & set(data.user_ids.to_list())
        off = settings.model_copy(update={"risk": RiskSettings(exclude_flagged=False)})
        assert set(attacked.labels) <= set(load_dataset(store, off)[0].user_ids.to_list())


def test_rules_that_flag_too_many_users_exclude_nobody():
    """A log of purchases only (ratings, say) looks like buying without browsing to every rule."""
    events = pd.DataFrame(
        {
            "user_id": [f"u{u}" for u in range(40) for _ in range(6)],
            "item_id": [f"i{(u + step) % 12}" for u in range(40) for step in range(6)],
            "kind": "purchase",
            "ts": [946684800000 + 1000 * step for _ in range(40) for step in range(6)],
        }
    )
    assert len(flagged_users(events, None, RiskSettings())) > 0.05 * 40
    kept, left_out = training_events(events, None, RiskSettings())
    assert kept is events and left_out == set()
