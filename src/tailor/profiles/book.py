"""`ProfileBook`: profile states of recently asked-for users, kept current from the store.

The first request for a user builds the state from all of the user's events. Later requests fold
in only the events newer than the state's latest one (one indexed store query, `ts >= latest`,
skipping the events already folded at exactly that time), so nothing is rebuilt per event, and an
event written by any process counts at the next request. An event arriving with a time older than
the user's latest folded event is picked up when the state is rebuilt, `profiles.rebuild_seconds`
after it was built. At most `profiles.cached_users` states are kept, least recently used dropped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from tailor.errors import InvalidInputError, UnknownUserError
from tailor.profiles.catalogue import ItemFacts
from tailor.profiles.interest import InterestSpace
from tailor.profiles.state import ProfileState
from tailor.profiles.view import DAY_MS, describe
from tailor.settings import Settings
from tailor.store.base import Store
from tailor.text import TextEncoder, encoder

LANGUAGES = ("zh", "en")
TIMEZONE_ATTRIBUTES = ("timezone", "time_zone", "tz")


def new_state(settings: Settings) -> ProfileState:
    p = settings.profiles
    return ProfileState(
        half_life_ms=p.half_life_days * DAY_MS,
        limit_items=p.recent_items,
        limit_queries=p.recent_queries,
    )


def build_state(settings: Settings, events: pd.DataFrame, facts: ItemFacts) -> ProfileState:
    """A state from scratch over one user's events."""
    state = new_state(settings)
    state.fold_all(events.to_dict("records"), facts, settings.ingest.event_weights)
    return state


def user_timezone(attributes: object, default: str) -> str:
    """The user's IANA time zone from their attributes, or `default` when absent or unknown."""
    if isinstance(attributes, dict):
        for key in TIMEZONE_ATTRIBUTES:
            name = attributes.get(key)
            if isinstance(name, str):
                try:
                    ZoneInfo(name)
                    return name
                except (ZoneInfoNotFoundError, ValueError):
                    break
    return default


@dataclass
class _Entry:
    state: ProfileState
    timezone: str
    built_at: float


class ProfileBook:
    """Profiles over a store; thread-safe. `clock` returns seconds (tests pass their own)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        text_encoder: TextEncoder | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.settings = settings
        self._encoder = text_encoder
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.RLock()
        self._facts: tuple[ItemFacts, InterestSpace, float] | None = None

    def profile(
        self, user_id: str, lang: str = "en", *, now: int | None = None, vector: bool = False
    ) -> dict:
        """The readable profile of a user as of `now` (ms; the wall clock when None)."""
        if lang not in LANGUAGES:
            raise InvalidInputError(f"lang must be zh or en, got {lang!r}", field="lang")
        with self._lock:
            entry = self._entry(user_id)
            space = self._catalogue()[1]
            return describe(
                user_id,
                entry.state,
                now if now is not None else time.time_ns() // 1_000_000,
                self.settings.profiles,
                lang,
                timezone=entry.timezone,
                interest=space,
                with_vector=vector,
            )

    def warm_up(self) -> None:
        """Load the language model and encode the catalogue's keywords in every language."""
        with self._lock:
            space = self._catalogue()[1]
            for lang in LANGUAGES:
                space.vocabulary(lang)

    def state(self, user_id: str) -> ProfileState:
        """The user's current state (caught up with the store)."""
        with self._lock:
            return self._entry(user_id).state

    def forget_user(self, user_id: str) -> int:
        """Drop the user's cached state (see `tailor.privacy`); returns how many were dropped."""
        with self._lock:
            return int(self._entries.pop(user_id, None) is not None)

    def holds_user(self, user_id: str) -> bool:
        with self._lock:
            return user_id in self._entries

    def _entry(self, user_id: str) -> _Entry:
        entry = self._entries.pop(user_id, None)
        now = self._clock()
        stale = entry is None or now - entry.built_at > self.settings.profiles.rebuild_seconds
        if stale or not self._catch_up(entry.state, user_id):
            entry = self._build(user_id, now)
        self._entries[user_id] = entry
        self._entries.move_to_end(user_id)
        while len(self._entries) > self.settings.profiles.cached_users:
            self._entries.popitem(last=False)
        return entry

    def _build(self, user_id: str, now: float) -> _Entry:
        events = self.store.events(user_ids=[user_id])
        users = self.store.users([user_id])
        if events.empty and users.empty:
            raise UnknownUserError(user_id)
        attributes = users["attributes"].iloc[0] if not users.empty else None
        timezone = user_timezone(attributes, self.settings.profiles.default_timezone)
        return _Entry(build_state(self.settings, events, self._catalogue()[0]), timezone, now)

    def _catch_up(self, state: ProfileState, user_id: str) -> bool:
        """Fold the events stored since the state's latest; False, folding nothing, when that
        latest event is gone from the store (the user was erased or purged, perhaps by another
        replica): the state must then be rebuilt."""
        events = self.store.events(since=state.last_ts, user_ids=[user_id])
        if state.last_ts is not None:
            folded = events["event_id"].isin(state.ids_at_last_ts).to_numpy()
            if folded.sum() < len(state.ids_at_last_ts):
                return False
            events = events[~folded]
        state.fold_all(
            events.to_dict("records"), self._catalogue()[0], self.settings.ingest.event_weights
        )
        return True

    def _catalogue(self) -> tuple[ItemFacts, InterestSpace, float]:
        """Item facts (reloaded after `rebuild_seconds`) and the interest space over them."""
        now = self._clock()
        if self._facts is None or now - self._facts[2] > self.settings.profiles.rebuild_seconds:
            facts = ItemFacts(self.store.items())
            text = self._encoder or encoder(self.settings.profiles.text_encoder)
            self._encoder = text
            previous = self._facts[1] if self._facts is not None else None
            self._facts = (facts, InterestSpace(text, facts, previous), now)
        return self._facts
