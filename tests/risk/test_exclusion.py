"""`risk.exclude_flagged` leaves flagged users' events out of the training data."""

from __future__ import annotations

import numpy as np

from tailor.data.dataset import Dataset
from tailor.models.popular import Trending
from tailor.risk.exclusion import training_events
from tailor.settings import RiskSettings
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
