"""The shopping scenarios, each answered under a fresh request id: home feed, similar items,
frequently bought together, continue shopping, personalized search and popular items.

Every answer is a `Served`: the items, the request id, the scenario, and the user's A/B variant
when an experiment runs in that scenario (its rule overrides apply under the request's own). The
list is remembered in the served-list log (`tailor.online.served`) so feedback can name it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tailor.engine.pending import pending_items
from tailor.engine.search import CONTENT, Matches, TextIndex, category_affinity, rerank
from tailor.engine.serve import FeedRequest, Recommendation, Serving
from tailor.errors import InvalidInputError, UnknownItemError, UnsupportedError
from tailor.models.cobought import CoBought
from tailor.online.ab import Assignment, Experiments
from tailor.online.served import ServedLog
from tailor.rank.explain import Contributions, Explanation, ModelRank, language, localized, title
from tailor.store.base import ServedList

if TYPE_CHECKING:
    from tailor.engine import Engine

HOME, SIMILAR, BOUGHT_TOGETHER = "home", "similar", "bought_together"
CONTINUE_SHOPPING, SEARCH, POPULAR = "continue_shopping", "search", "popular"
COBOUGHT = "cobought"
SEARCH_MATCH, SEARCH_TASTE = "search_match", "search_match_taste"
SIMILAR_FALLBACK = "similar_not_bought_together"

REASONS: dict[str, dict[str, str]] = {
    "en": {
        BOUGHT_TOGETHER: "often bought together with {title}",
        SIMILAR_FALLBACK: "similar to {title} (not bought together with it yet)",
        "in_cart": "in your cart, not ordered yet",
        "favorited": "you favourited this",
        "viewed_before": "you viewed this",
        SEARCH_MATCH: 'matches "{query}"',
        SEARCH_TASTE: 'matches "{query}", in {category} you often browse',
    },
    "zh": {
        BOUGHT_TOGETHER: "常与 {title} 一起购买",
        SIMILAR_FALLBACK: "与 {title} 相似（还没有人把它们一起买）",
        "in_cart": "你加购了 {title} 还没下单",
        "favorited": "你收藏了 {title}",
        "viewed_before": "你浏览过 {title}",
        SEARCH_MATCH: "与“{query}”相关",
        SEARCH_TASTE: "与“{query}”相关，也是你常逛的 {category}",
    },
}


def reason(code: str, lang: str, anchor: str | None = None, **names: str) -> Explanation:
    """The reason `code` in `lang`; `anchor` is the item id it names, if any."""
    return Explanation(code, REASONS[lang][code].format(**names), anchor)


@dataclass(frozen=True)
class Served:
    request_id: str
    scenario: str
    items: list[Recommendation]
    model_version: str | None
    experiment: str | None = None
    variant: str | None = None


class Scenarios:
    """The scenarios over one engine; owns the served-list log and the search index."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.settings = engine.settings.scenarios
        self.experiments = Experiments(engine.settings.online)
        self.log = ServedLog(engine.store, engine.settings.online.served_flush_seconds)
        self._text: tuple[str, TextIndex] | None = None
        self._text_lock = threading.Lock()

    # ---- scenarios ----------------------------------------------------------------------------

    def home(self, user_id: str, k: int = 10, **options: Any) -> Served:
        """`Engine.recommend` under the variant's rule overrides (the request's own win)."""
        return self.home_feeds([self.home_request(user_id, k, **options)])[0]

    def home_request(
        self, user_id: str, k: int = 10, *, rules: Mapping[str, Any] | None = None, **options: Any
    ) -> FeedRequest:
        """A home-feed request under the user's variant (`options` as `Engine.feed_request`);
        InvalidInputError names a bad argument."""
        assignment = self.experiments.assignment(HOME, user_id)
        given = {name: v for name, v in (rules or {}).items() if v is not None}
        ruled = {**(assignment.rules if assignment else {}), **given}
        return self.engine.feed_request(user_id, k, rules=ruled, **options)

    def home_feeds(self, requests: Sequence[FeedRequest]) -> list[Served]:
        """Home feeds for many requests, scored in batches (`Engine.answer_feeds`)."""
        answers = self.engine.answer_feeds(requests)
        return [
            self._serve(HOME, items, r.user_id, self.experiments.assignment(HOME, r.user_id))
            for r, items in zip(requests, answers)
        ]

    def similar(self, item_id: str, k: int = 10, *, user_id: str | None = None) -> Served:
        assignment = self.experiments.assignment(SIMILAR, user_id)
        return self._serve(SIMILAR, self.engine.similar_items(item_id, k), user_id, assignment)

    def popular(
        self, k: int = 10, category: str | None = None, *, user_id: str | None = None
    ) -> Served:
        assignment = self.experiments.assignment(POPULAR, user_id)
        return self._serve(POPULAR, self.engine.popular(k, category), user_id, assignment)

    def bought_together(
        self, item_id: str, k: int = 10, *, user_id: str | None = None, lang: str | None = None
    ) -> Served:
        """Items bought in the same baskets as `item_id` (the cobought model), best first; when
        there are fewer than k, similar items fill the list, each saying it is only similar."""
        self.engine.check_k(k)
        assignment = self.experiments.assignment(BOUGHT_TOGETHER, user_id)
        serving, lang = self.engine.serving, language(lang)
        item = serving.artifact.item_ids.get(item_id)
        if item < 0:
            raise UnknownItemError(item_id)
        anchor = title(serving.items, item, lang)
        picks: list[Recommendation] = []
        model = serving.artifact.models.get(COBOUGHT)
        if isinstance(model, CoBought):
            partners, scores = model.partners(item)
            keep = (serving.items.shown & serving.items.in_stock)[partners]
            explanation = reason(BOUGHT_TOGETHER, lang, item_id, title=anchor)
            for rank, (partner, score) in enumerate(
                zip(partners[keep][:k].tolist(), scores[keep][:k].tolist()), 1
            ):
                picks.append(_item(serving, partner, score, COBOUGHT, explanation, rank))
        if len(picks) < k:
            picks += self._similar_fallback(serving, item_id, anchor, picks, k, lang)
        return self._serve(BOUGHT_TOGETHER, picks, user_id, assignment)

    def continue_shopping(self, user_id: str, k: int = 10, *, lang: str | None = None) -> Served:
        """Items the user carted, favourited or viewed and has not bought since, strongest and
        most recent first; only items the catalogue lists, shows and has in stock."""
        self.engine.check_k(k)
        lang = language(lang)
        assignment = self.experiments.assignment(CONTINUE_SHOPPING, user_id)
        events = self.engine.store.recent_events(
            user_id, self.engine.settings.service.history_events
        )
        pending = pending_items(
            events,
            self.engine.settings.ingest.event_weights,
            now_ms=time.time() * 1000,
            half_life_days=self.settings.continue_half_life_days,
            max_age_days=self.settings.continue_max_age_days,
        )
        catalogue = self.engine.store.items([p.item_id for p in pending])
        facts = catalogue.set_index("item_id").to_dict("index") if len(catalogue) else {}
        picks = []
        for entry in pending:
            row = facts.get(entry.item_id)
            if row is None or not _may_show(row):
                continue
            name = _catalogue_title(row, entry.item_id, lang)
            explanation = reason(entry.code, lang, entry.item_id, title=name)
            picks.append(
                Recommendation(
                    item_id=entry.item_id,
                    score=entry.score,
                    reason=explanation.text,
                    source=CONTINUE_SHOPPING,
                    explanation=explanation,
                )
            )
            if len(picks) == k:
                break
        return self._serve(CONTINUE_SHOPPING, picks, user_id, assignment)

    def search(
        self, query: str, k: int = 10, *, user_id: str | None = None, lang: str | None = None
    ) -> Served:
        """Items matching the query text, re-ranked for the user (see `tailor.engine.search`);
        a known user's search is stored as a `search` event."""
        self.engine.check_k(k)
        query = _checked_query(query, self.engine.settings.ingest.max_text_length)
        lang = language(lang)
        assignment = self.experiments.assignment(SEARCH, user_id)
        serving = self.engine.serving
        found, cosine = self._text_index(serving).search(query, max(k, self.settings.search_pool))
        keep = (serving.items.shown & serving.items.in_stock)[found] & (cosine > 0)
        found, cosine = found[keep], cosine[keep]
        weight = self.settings.search_personalization
        if assignment is not None and assignment.search_personalization is not None:
            weight = assignment.search_personalization
        taste = self._taste(serving, user_id, found) if weight > 0 else np.zeros(len(found))
        matches = rerank(found, cosine, taste, weight)
        picks = [
            self._search_item(serving, query, rank, matches, weight, lang)
            for rank in range(min(k, len(matches.items)))
        ]
        served = self._serve(SEARCH, picks, user_id, assignment)
        if user_id is not None and self.settings.log_searches:
            self.engine.ingest_events(
                [
                    {
                        "event_id": f"search-{served.request_id}",
                        "user_id": user_id,
                        "kind": "search",
                        "query": query,
                    }
                ]
            )
        return served

    def close(self) -> None:
        """Write the served lists still pending."""
        self.log.close()

    # ---- helpers ------------------------------------------------------------------------------

    def _serve(
        self,
        scenario: str,
        items: list[Recommendation],
        user_id: str | None,
        assignment: Assignment | None,
    ) -> Served:
        served = Served(
            request_id=str(uuid.uuid4()),
            scenario=scenario,
            items=items,
            model_version=self.engine.version,
            experiment=assignment.experiment if assignment else None,
            variant=assignment.variant if assignment else None,
        )
        self.log.record(
            ServedList(
                request_id=served.request_id,
                scenario=scenario,
                item_ids=[r.item_id for r in items],
                ts=time.time_ns() // 1_000_000,
                user_id=user_id,
                experiment=served.experiment,
                variant=served.variant,
                model_version=served.model_version,
            )
        )
        return served

    def _similar_fallback(
        self,
        serving: Serving,
        item_id: str,
        anchor: str,
        picks: list[Recommendation],
        k: int,
        lang: str,
    ) -> list[Recommendation]:
        """Similar items, not already picked, to fill a bought-together list up to k; none when
        no trained model relates items (then co-bought items alone are better than an error)."""
        try:
            similar = serving.similar_items(item_id, k)
        except UnsupportedError:
            if not picks:
                raise
            return []
        taken = {r.item_id for r in picks} | {item_id}
        fallback = reason(SIMILAR_FALLBACK, lang, item_id, title=anchor)
        fill = [r for r in similar if r.item_id not in taken][: k - len(picks)]
        return [replace(r, reason=fallback.text, explanation=fallback) for r in fill]

    def _text_index(self, serving: Serving) -> TextIndex:
        """The search index of the version served (built on first use, once per version)."""
        with self._text_lock:
            if self._text is None or self._text[0] != serving.version:
                self._text = (serving.version, TextIndex.of(serving.artifact.models))
            return self._text[1]

    def _taste(self, serving: Serving, user_id: str | None, candidates: np.ndarray) -> np.ndarray:
        if user_id is None:
            return np.zeros(len(candidates))
        events = self.engine.store.recent_events(
            user_id, self.engine.settings.service.history_events
        )
        items = serving.artifact.item_ids.indices(events["item_id"].fillna("").astype(str))
        weights = np.array(
            [serving.event_weights.get(kind, 0.0) for kind in events["kind"].tolist()]
        )
        known = (items >= 0) & (weights > 0)
        return category_affinity(serving.items, items[known], weights[known], candidates)

    def _search_item(
        self, serving: Serving, query: str, rank: int, matches: Matches, weight: float, lang: str
    ) -> Recommendation:
        """The match at `rank`; its reason names the category when the user's taste moved it."""
        item = int(matches.items[rank])
        top = int(serving.items.top[item])
        if weight * matches.affinity[rank] > 0 and top >= 0:
            category = localized(serving.items.top_names[top], lang)
            explanation = reason(SEARCH_TASTE, lang, query=query, category=category)
        else:
            explanation = reason(SEARCH_MATCH, lang, query=query)
        return _item(
            serving,
            item,
            float(matches.scores[rank]),
            CONTENT,
            explanation,
            rank + 1,
            float(matches.cosine[rank]),
        )


def _item(
    serving: Serving,
    item: int,
    score: float,
    source: str,
    explanation: Explanation,
    rank: int,
    model_score: float | None = None,
) -> Recommendation:
    """An item of a scenario list; `model_score` is the source's own score (default `score`)."""
    return Recommendation(
        item_id=serving.artifact.item_ids.id(item),
        score=score,
        reason=explanation.text,
        source=source,
        explanation=explanation,
        contributions=Contributions(
            models={source: ModelRank(rank, score if model_score is None else model_score)},
            rules=[],
        ),
    )


def _may_show(row: Mapping[str, Any]) -> bool:
    stock = row.get("stock")
    sold_out = stock is not None and not pd.isna(stock) and stock <= 0
    return not bool(row.get("hidden")) and not sold_out


def _catalogue_title(row: Mapping[str, Any], item_id: str, lang: str) -> str:
    attributes = row.get("attributes")
    if isinstance(attributes, Mapping) and attributes.get(f"title_{lang}"):
        return str(attributes[f"title_{lang}"])
    text = row.get("title")
    return localized(text, lang) if isinstance(text, str) and text else item_id


def _checked_query(query: str, max_length: int) -> str:
    query = query.strip()
    if not query:
        raise InvalidInputError("q must hold some text to search for", field="q")
    if len(query) > max_length:
        raise InvalidInputError(f"q is longer than {max_length:,} characters", field="q")
    return query
