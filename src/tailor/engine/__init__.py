"""The engine: the one object the service, the CLI and Python callers talk to.

Writes go through validation to the store. Training builds a new artifact version and switches
`CURRENT`; a running engine picks it up with `reload_if_changed()` and swaps its models in one
assignment, so a request in flight finishes on the version it started with. Recommendations read
the user's latest events from the store on every call: a posted event changes the next answer,
on every replica that shares the store. Item facts live in memory: catalogue writes are published
to the shared cache (`tailor.cache`), and each replica follows the others' within
`cache.follow_seconds` (see `_follow_peers`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

from tailor.artifacts import CURRENT_FILE, Manifest, current_version, load_artifact
from tailor.cache import ItemChange, SharedCache, open_cache
from tailor.cache.base import ChangeKind
from tailor.campaigns.service import Campaigns
from tailor.engine.scenarios import Scenarios, Served
from tailor.engine.serve import FeedRequest, Recommendation, Serving, item_kinds_by_user
from tailor.engine.train import Evaluation, Progress, evaluate_models, load_dataset
from tailor.engine.train import train as train_artifact
from tailor.engine.writes import (
    IngestResult,
    Records,
    RejectedRow,
    WriteResult,
    ingest_events,
    put_items,
    put_users,
)
from tailor.errors import CacheError, InvalidInputError, NotFittedError, StoreError
from tailor.profiles import ProfileBook
from tailor.propensity.service import PropensityService
from tailor.push.plan import Planned
from tailor.push.report import push_report
from tailor.push.service import PlanRequest, PushPlanner, push_events
from tailor.rank.explain import language
from tailor.rank.rules import Rules
from tailor.reviews import ReviewInsights
from tailor.settings import Settings
from tailor.store import open_store
from tailor.store.base import Store

log = logging.getLogger(__name__)
BATCH_USERS = 1024  # users whose events are read from the store at once in batch mode
NOT_TRAINED = "no model has been trained yet: run `tailor train` (or `tailor demo`) first"


class Engine:
    """Writes, training, model versions and answers over one store and one artifacts directory.

    Pass `store` to share an open store, and `cache` to share a cache with other engines in
    this process; what is passed is left open by `close()`.
    """

    def __init__(
        self, settings: Settings, store: Store | None = None, cache: SharedCache | None = None
    ) -> None:
        self.settings = settings
        self._owns_store = store is None
        self.store = store if store is not None else open_store(settings.store_url)
        self._serving: Serving | None = None
        self._current_stat: tuple[int, int] | None = None
        self._load_lock = threading.Lock()
        self.scenarios = Scenarios(self)  # request ids, A/B variants, the served-list log
        self._profiles: ProfileBook | None = None
        self._propensity: PropensityService | None = None
        self._campaigns: Campaigns | None = None
        self._reviews: ReviewInsights | None = None
        self._owns_cache = cache is None
        self.cache = cache if cache is not None else open_cache(settings.cache)  # connects on use
        self.replica_id = uuid.uuid4().hex  # names this engine's changes in the shared cache
        self._changes_seen = 0  # the shared cache's catalogue changes applied up to here
        self._followed_at = float("-inf")
        self._follow_lock = threading.Lock()
        self._warming: threading.Thread | None = None

    # ---- writes -------------------------------------------------------------------------------

    def ingest_events(self, records: Records) -> IngestResult:
        return ingest_events(self.store, records, self.settings.ingest)

    def put_items(self, records: Records) -> WriteResult:
        result, stored = put_items(self.store, records, self.settings.ingest)
        if len(stored):
            if self._serving is not None:
                self._serving.follow_items(stored)
            self._publish("upsert", stored["item_id"].astype(str).tolist())
        return result

    def put_users(self, records: Records) -> WriteResult:
        return put_users(self.store, records, self.settings.ingest)

    def delete_items(self, item_ids: Sequence[str]) -> int:
        deleted = self.store.delete_items(list(item_ids))
        if self._serving is not None:
            self._serving.withdraw_items(item_ids)
        self._publish("delete", list(item_ids))
        return deleted

    def delete_users(self, user_ids: Sequence[str]) -> int:
        return self.store.delete_users(list(user_ids))

    # ---- training -----------------------------------------------------------------------------

    def evaluate(self, progress: Progress | None = None) -> Evaluation:
        """Measure every configured model, and their blend, on the time holdout; writes nothing."""
        data, _ = load_dataset(self.store, self.settings)
        return evaluate_models(data, self.settings, progress)

    def train(self, progress: Progress | None = None, *, evaluate: bool = True) -> Manifest:
        """Evaluate (unless `evaluate=False`), fit on all events, write and switch to a new
        artifact, and serve it."""
        manifest = train_artifact(self.store, self.settings, progress, evaluate=evaluate)
        self.load(manifest.version)
        return manifest

    # ---- model versions -----------------------------------------------------------------------

    def load(self, version: str | None = None) -> Manifest:
        """Load an artifact version (the current one when None) and serve it from now on."""
        with self._load_lock:
            self._current_stat = self._stat_current()
            self._serving = self._prepare(version)
        return self._serving.artifact.manifest

    def reload_if_changed(self) -> bool:
        """Load the current artifact if CURRENT moved since the last look. Cheap: one stat()."""
        stat = self._stat_current()
        if stat is None or stat == self._current_stat:
            return False
        if not self._load_lock.acquire(blocking=False):
            return False  # another thread is loading; requests keep the old models meanwhile
        try:
            self._current_stat = stat
            version = current_version(self.settings.artifacts_dir)
            if version is None or (self._serving is not None and self._serving.version == version):
                return False
            self._serving = self._prepare(version)
            return True
        finally:
            self._load_lock.release()

    @property
    def version(self) -> str | None:
        return self._serving.version if self._serving is not None else None

    @property
    def manifest(self) -> Manifest:
        return self._require_serving().artifact.manifest

    # ---- answers ------------------------------------------------------------------------------

    def recommend(self, user_id: str, k: int = 10, **options: Any) -> list[Recommendation]:
        """The top k items for a user, from their latest events in the store, under the configured
        business rules; `options` are `feed_request`'s (exclusions, category, rule overrides,
        the reasons' language)."""
        return self.answer_feeds([self.feed_request(user_id, k, **options)])[0]

    def feed_request(
        self,
        user_id: str,
        k: int = 10,
        *,
        exclude: Iterable[str] = (),
        category: str | None = None,
        rules: Mapping[str, Any] | None = None,
        lang: str | None = None,
    ) -> FeedRequest:
        """One `recommend` call's arguments, checked: `exclude` item ids, only items under
        `category`, `rules` overriding any configured rule (see `Rules`), reasons in `lang`.
        InvalidInputError names a bad one."""
        self._check_k(k)
        ruled = self.rules(exclude_ids=tuple(exclude), category=category, **(rules or {}))
        return FeedRequest(user_id, k, ruled, language(lang))

    def answer_feeds(self, requests: Sequence[FeedRequest]) -> list[list[Recommendation]]:
        """`recommend` for many requests at once, each from its user's latest events; requests
        with the same k, rules and language are scored together, as one batch."""
        serving = self._require_serving()
        service = self.settings.service
        # Bounded, so a user with a very long history costs no more than the rules need.
        distinct = list(dict.fromkeys(r.user_id for r in requests))
        events = self.store.recent_item_kinds_of(distinct, service.history_events)
        batches: dict[tuple[int, Rules, str], list[int]] = {}
        for position, request in enumerate(requests):
            batches.setdefault((request.k, request.rules, request.lang), []).append(position)
        answers: list[list[Recommendation]] = [[] for _ in requests]
        for (k, rules, lang), positions in batches.items():
            users = [requests[p].user_id for p in positions]
            scored = serving.recommend(
                users, events, k, rules, n_recent=service.recent_events, lang=lang
            )
            for position, items in zip(positions, scored):
                answers[position] = items
        return answers

    def recommend_many(
        self,
        user_ids: Sequence[str],
        k: int = 10,
        *,
        category: str | None = None,
        rules: Mapping[str, Any] | None = None,
        lang: str | None = None,
    ) -> Iterator[tuple[str, list[Recommendation]]]:
        """(user_id, top k) for many users, read and scored in chunks: the batch mode."""
        self._check_k(k)
        serving = self._require_serving()
        ruled = self.rules(category=category, **(rules or {}))
        n_recent = self.settings.service.recent_events
        for start in range(0, len(user_ids), BATCH_USERS):
            chunk = [str(u) for u in user_ids[start : start + BATCH_USERS]]
            events = item_kinds_by_user(self.store.events(user_ids=chunk))
            answers = serving.recommend(
                chunk, events, k, ruled, n_recent=n_recent, lang=language(lang)
            )
            yield from zip(chunk, answers)

    def rules(self, **overrides: Any) -> Rules:
        """The configured rules with these overrides (None values keep the default)."""
        return Rules.of(self.settings.rules, overrides)

    def similar_items(self, item_id: str, k: int = 10) -> list[Recommendation]:
        self._check_k(k)
        return self._require_serving().similar_items(item_id, k)

    def popular(self, k: int = 10, category: str | None = None) -> list[Recommendation]:
        self._check_k(k)
        return self._require_serving().popular(k, category)

    def health(self) -> dict[str, object]:
        """Whether the store answers, the row counts, which model version is served, and problems."""
        problems: list[str] = []
        try:
            counts = self.store.counts()
        except StoreError as exc:
            counts = None
            problems.append(f"store unreachable: {exc}")
        if self._serving is None:
            problems.append(NOT_TRAINED)
        try:
            self.cache.ping()
        except CacheError as exc:
            problems.append(exc.message)
        return {
            "store_reachable": counts is not None,
            "counts": counts or {},
            "model_version": self.version,
            "problems": problems,
            "warming_up": self._warming is not None and self._warming.is_alive(),
        }

    def warm_up(self) -> None:
        """Load what first requests would otherwise wait for: the profiles' language model and
        keyword vectors and, with purchase prediction trained, the campaigns' lookback snapshot."""
        started = time.perf_counter()
        self.profiles.warm_up()
        try:
            self.propensity.current()
        except NotFittedError:
            pass
        else:
            self.campaigns.snapshot()
        log.info("warmed up in %.1f s", time.perf_counter() - started)

    def warm_up_in_background(self, then: Callable[[], object] | None = None) -> None:
        """`warm_up` in a thread, then `then()`; `health()` reports `warming_up` until it ends."""

        def run() -> None:
            try:
                self.warm_up()
            except Exception:  # a cold first request is slower, not wrong
                log.exception("warm-up failed")
            if then is not None:
                then()

        self._warming = threading.Thread(target=run, name="warm-up", daemon=True)
        self._warming.start()

    def close(self) -> None:
        self.scenarios.close()
        if self._owns_cache:
            self.cache.close()
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- profiles -----------------------------------------------------------------------------

    @property
    def profiles(self) -> ProfileBook:
        """User profiles over this engine's store, kept current from it (made on first use)."""
        if self._profiles is None:
            self._profiles = ProfileBook(self.store, self.settings)
        return self._profiles

    @property
    def propensity(self) -> PropensityService:
        """Calibrated purchase probabilities from the current propensity version."""
        if self._propensity is None:
            self._propensity = PropensityService(self.store, self.settings)
        return self._propensity

    @property
    def campaigns(self) -> Campaigns:
        """Item audiences and coupon targeting, on the current propensity version."""
        if self._campaigns is None:
            self._campaigns = Campaigns(self.store, self.settings, self.propensity)
        return self._campaigns

    @property
    def reviews(self) -> ReviewInsights:
        """Review insights per item from the current review model (made on first use)."""
        if self._reviews is None:
            self._reviews = ReviewInsights(self.store, self.settings)
        return self._reviews

    def purchase_probability(
        self,
        user_id: str,
        days: int | None = None,
        *,
        item_id: str | None = None,
        category: str | None = None,
        now: int | None = None,
    ) -> dict:
        """P(the user buys anything / this item / in this category within `days`)."""
        days = days or self.settings.propensity.days[0]
        return self.propensity.probability(
            user_id, days, item_id=item_id, category=category, now=now
        )

    def plan_push(
        self, request: PlanRequest, *, now: int | None = None, record: bool = False
    ) -> list[Planned]:
        """A push plan (see `tailor.push`); `record` writes it to the push log as events."""
        planned = PushPlanner(self.store, self.settings, self.propensity).plan(request, now)
        if record:
            self.ingest_events(push_events(planned, request.channel))
        return planned

    def push_report(self, since: int | None = None) -> list[dict]:
        """Push outcomes per channel from the stored push events and purchases."""
        return push_report(self.store.events(since=since), self.settings.push.attribution_days)

    # ---- helpers ------------------------------------------------------------------------------

    def _prepare(self, version: str | None) -> Serving:
        """A loaded version whose item availability follows the store's catalogue as of now, so
        items hidden or deleted while the version was being trained stay unserved."""
        serving = Serving(load_artifact(self.settings.artifacts_dir, version))
        try:  # before the read: the changes after it are followed later
            self._changes_seen = self.cache.latest_change()
        except CacheError as exc:  # followed from the old place once the cache answers
            log.error("serving without the shared cache: %s", exc.message)
        serving.sync_catalogue(self.store.items())
        return serving

    def _require_serving(self) -> Serving:
        serving = self._serving
        if serving is None:
            raise NotFittedError(NOT_TRAINED)
        self._follow_peers(serving)
        return serving

    def _publish(self, kind: ChangeKind, item_ids: Sequence[str]) -> None:
        """Tell the other replicas which items changed (they re-read them from the store)."""
        try:
            self.cache.publish_items(ItemChange.of(self.replica_id, kind, item_ids))
        except CacheError as exc:
            raise CacheError(
                f"{exc.message}; the write is stored, but other replicas may serve the old "
                "item facts: repeat the write (it is idempotent) once the cache answers"
            ) from exc

    def _follow_peers(self, serving: Serving) -> None:
        """Apply the catalogue changes other replicas published, looking at most every
        `cache.follow_seconds`; a gap in the feed re-reads the whole catalogue. An unreachable
        cache is logged (and reported by health) and the answer goes ahead."""
        now = time.monotonic()
        if now - self._followed_at < self.settings.cache.follow_seconds:
            return
        if not self._follow_lock.acquire(blocking=False):
            return  # another request is following; this one answers from the facts as they are
        try:
            self._followed_at = now
            found = self.cache.item_changes(self._changes_seen)
            if not found.complete:
                serving.sync_catalogue(self.store.items())
            for change in found.changes if found.complete else ():
                if change.origin != self.replica_id:
                    self._apply(serving, change)
            self._changes_seen = found.cursor
        except CacheError as exc:
            log.error("catalogue changes of other replicas not followed: %s", exc.message)
        finally:
            self._follow_lock.release()

    def _apply(self, serving: Serving, change: ItemChange) -> None:
        if change.kind == "delete":
            serving.withdraw_items(change.item_ids)
        elif change.kind == "upsert":
            serving.follow_items(self.store.items(list(change.item_ids)))
        else:
            serving.sync_catalogue(self.store.items())

    @property
    def serving(self) -> Serving:
        """The loaded version's answering state; NotFittedError before the first training."""
        return self._require_serving()

    def check_k(self, k: int) -> None:
        """InvalidInputError naming `k` unless 1 <= k <= service.max_k."""
        self._check_k(k)

    def _check_k(self, k: int) -> None:
        if not 1 <= k <= self.settings.service.max_k:
            raise InvalidInputError(
                f"k must be between 1 and {self.settings.service.max_k}, got {k}", field="k"
            )

    def _stat_current(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.settings.artifacts_dir / CURRENT_FILE)
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns


__all__ = [
    "Engine",
    "Evaluation",
    "IngestResult",
    "Progress",
    "Recommendation",
    "RejectedRow",
    "Rules",
    "Served",
    "WriteResult",
]
