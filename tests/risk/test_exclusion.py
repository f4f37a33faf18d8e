"""`risk.exclude_flagged` leaves flagged users' events out of the training data."""

from __future__ import annotations

from tailor.risk.exclusion import training_events
from tailor.settings import RiskSettings


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
