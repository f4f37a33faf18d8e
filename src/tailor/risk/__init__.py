"""Risk control: behaviour features, rules with bilingual reasons and an isolation forest score
each user 0..1; flagged users can be left out of what the models learn from."""

from tailor.risk.book import RiskBook
from tailor.risk.exclusion import flagged_users, training_events
from tailor.risk.features import FEATURES, behaviour_features
from tailor.risk.scoring import Reason, RiskScore, score_users

__all__ = [
    "FEATURES",
    "Reason",
    "RiskBook",
    "RiskScore",
    "behaviour_features",
    "flagged_users",
    "score_users",
    "training_events",
]
