"""What flagged users are left out of: the events that models (trending, popularity, the
ranker's labels) learn from."""

from __future__ import annotations

import logging

import pandas as pd

from tailor.risk.scoring import score_users
from tailor.settings import RiskSettings

log = logging.getLogger(__name__)


def flagged_users(
    events: pd.DataFrame, users: pd.DataFrame | None, settings: RiskSettings
) -> set[str]:
    """Ids of the users whose risk score reaches `settings.min_score`."""
    return {s.user_id for s in score_users(events, users, settings) if s.flagged}


def training_events(
    events: pd.DataFrame, users: pd.DataFrame | None, settings: RiskSettings
) -> tuple[pd.DataFrame, set[str]]:
    """The events to train on and the users left out: with `risk.exclude_flagged`, every event of
    a flagged user is dropped; without it, the events come back as they are. When more than
    `max_excluded_share` of the users are flagged, the rules do not fit this data (a log of
    purchases or ratings only, say, looks like buying without browsing), so nothing is dropped."""
    if not settings.exclude_flagged or not len(events):
        return events, set()
    flagged = flagged_users(events, users, settings)
    if not flagged:
        return events, flagged
    share = len(flagged) / events["user_id"].nunique()
    if share > settings.max_excluded_share:
        log.warning(
            "risk: %.0f%% of users flagged, over risk.max_excluded_share; training keeps them all",
            100 * share,
        )
        return events, set()
    kept = events[~events["user_id"].astype(str).isin(flagged)]
    return kept.reset_index(drop=True), flagged
