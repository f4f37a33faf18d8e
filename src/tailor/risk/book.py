"""Risk scores over a store's events, computed once and reused for `risk.cache_seconds`."""

from __future__ import annotations

import threading
import time

from tailor.errors import InvalidInputError, UnknownUserError
from tailor.risk.scoring import RiskScore, score_users
from tailor.settings import RiskSettings
from tailor.store.base import Store


class RiskBook:
    def __init__(self, settings: RiskSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._scores: dict[str, RiskScore] = {}
        self._ranked: list[RiskScore] = []
        self._computed_at: float | None = None
        self._counts: dict[str, int] | None = None

    def refresh(self, store: Store) -> None:
        """Score again when the cache is older than `cache_seconds` and the store has changed."""
        with self._lock:
            fresh = (
                self._computed_at is not None
                and time.monotonic() - self._computed_at < self.settings.cache_seconds
            )
            if fresh:
                return
            counts = store.counts()
            if counts == self._counts:
                self._computed_at = time.monotonic()
                return
            ranked = score_users(store.events(), store.users(), self.settings)
            self._ranked = ranked
            self._scores = {s.user_id: s for s in ranked}
            self._counts = counts
            self._computed_at = time.monotonic()

    def forget_user(self, user_id: str) -> int:
        """Drop the user's score and score again at the next look (see `tailor.privacy`)."""
        with self._lock:
            dropped = self._scores.pop(user_id, None)
            self._ranked = [s for s in self._ranked if s.user_id != user_id]
            self._computed_at = self._counts = None
        return int(dropped is not None)

    def holds_user(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._scores

    def users(
        self, store: Store, min_score: float | None = None, limit: int = 100
    ) -> list[RiskScore]:
        """Users scoring at least `min_score` (default: `risk.min_score`), highest first."""
        threshold = self.settings.min_score if min_score is None else min_score
        if not 0.0 <= threshold <= 1.0:
            raise InvalidInputError("min_score must be between 0 and 1", field="min_score")
        if limit < 1:
            raise InvalidInputError("limit must be at least 1", field="limit")
        self.refresh(store)
        return [s for s in self._ranked if s.score >= threshold][:limit]

    def user(self, store: Store, user_id: str) -> RiskScore:
        self.refresh(store)
        if user_id in self._scores:
            return self._scores[user_id]
        if len(store.users([user_id])):
            return RiskScore(user_id=user_id, score=0.0, flagged=False, reasons=[])
        raise UnknownUserError(user_id)
