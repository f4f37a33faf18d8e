"""`Assistant.ask`: a shopper's question in, an answer that cites what it used out.

1. The language is the request's `lang`, else the question's own (see `tailor.assistant.lang`).
2. The intent comes from `IntentClassifier`. A hand-off intent goes to a person at once when its
   probability reaches `assistant.handoff_intent_min`; below that the runner-up intent is tried
   (the hand-off class also holds off-topic questions, so it attracts what the classifier is
   unsure of), and step 4 still hands off when nothing matches.
3. Product questions, searches and recommendations read the catalogue (`ItemIndex`), re-ranked
   by the shopper's category taste from their profile as the search scenario does
   (`scenarios.search_personalization`); a recommendation request that names no product takes
   the engine's own recommendations (or its popular items without a known shopper). Order,
   delivery and returns questions read the FAQ in the answer's language, and a known shopper's
   latest order.
4. The answer's confidence is the best source's score (see `tailor.assistant.knowledge`); below
   `assistant.handoff_below` a person takes over, and the answer says so.
5. A `Composer` writes the text from these facts only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from tailor.assistant.catalogue import category_taste, item_fact, price_cap
from tailor.assistant.compose import Composer, Facts, LatestOrder, TemplateComposer
from tailor.assistant.intents import Intent, IntentClassifier, load_seeds
from tailor.assistant.knowledge import FaqIndex, ItemIndex
from tailor.assistant.lang import LANGUAGES, detect_lang
from tailor.engine import Engine
from tailor.engine.search import query_encoder, rerank
from tailor.errors import InvalidInputError, NotFittedError, TailorError, UnknownUserError
from tailor.text import DEFAULT_ENCODER

log = logging.getLogger(__name__)
# Texts whose vectors are remembered (catalogue and FAQ documents, recent questions); the least
# recently used beyond this are encoded again when next needed, so memory stays bounded.
MAX_REMEMBERED_VECTORS = 200_000
POOL = 20  # best text matches the shopper's taste may re-order
FAQ_MARGIN = 0.05  # a second FAQ entry is cited when it scores this close to the first
PURCHASE = "purchase"
ITEM_INTENTS = (Intent.product_search, Intent.product_question, Intent.recommendation)


@dataclass(frozen=True)
class Citation:
    kind: str  # "item" or "faq"
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class Answer:
    text: str
    lang: str
    intent: Intent
    intent_probability: float
    confidence: float  # how well the best source matched (1 for a hand-off the shopper asked for)
    handoff: bool
    citations: list[Citation] = field(default_factory=list)


@dataclass(frozen=True)
class _Evidence:
    facts: Facts
    score: float  # how well the best source matched, in [0, 1]
    citations: list[Citation]


class Assistant:
    """Answers over one engine's store and models; thread-safe. The FAQ is re-read from the
    store on every question (it is small), the catalogue every `assistant.refresh_seconds`.
    Document vectors are remembered by text, so a refresh encodes only new or changed texts."""

    def __init__(self, engine: Engine, composer: Composer | None = None) -> None:
        self.engine = engine
        self.settings = engine.settings.assistant
        self.composer = composer or TemplateComposer()
        self._encoder, self._encoder_lock = query_encoder(DEFAULT_ENCODER)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # least recently used first
        self.classifier = IntentClassifier(self).fit(load_seeds())
        self._lock = threading.Lock()
        self._faq: tuple[tuple[tuple[str, int], ...], FaqIndex] | None = None
        self._items: tuple[float, ItemIndex] | None = None
        self._refreshing = False

    # ---- the TextEncoder protocol, remembering document vectors ---------------------------

    @property
    def name(self) -> str:
        return self._encoder.name

    @property
    def dim(self) -> int:
        return self._encoder.dim

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        wanted = list(dict.fromkeys(texts))
        with self._encoder_lock:
            new = [text for text in wanted if text not in self._vectors]
            if new:
                vectors = self._encoder.encode(new, batch_size=batch_size, progress=progress)
                self._vectors.update(zip(new, vectors))
            found = {text: self._vectors[text] for text in wanted}
            for text in wanted:
                self._vectors.move_to_end(text)
            while len(self._vectors) > MAX_REMEMBERED_VECTORS:
                self._vectors.popitem(last=False)
        return np.array([found[text] for text in texts], dtype=np.float32).reshape(
            len(texts), self.dim
        )

    # ---- answers ---------------------------------------------------------------------------

    def ask(self, question: str, user_id: str | None = None, lang: str | None = None) -> Answer:
        question = self._checked(question)
        if lang is not None and lang not in LANGUAGES:
            raise InvalidInputError(f"lang must be zh or en, not {lang!r}", field="lang")
        lang = lang or detect_lang(question)
        with self._encoder_lock:
            vector = self._encoder.encode([question])[0]
        (intent, probability), runner_up = self.classifier.ranked(vector, question)[:2]
        if intent is Intent.handoff:
            if probability >= self.settings.handoff_intent_min:
                return self._handoff(Facts(question, lang, intent, handoff=True), probability, 1.0)
            intent, probability = runner_up  # unsure it is a hand-off: try to answer, guarded below
        evidence = self._evidence(question, vector, intent, user_id, lang)
        if evidence.score < self.settings.handoff_below:
            facts = Facts(question, lang, intent, handoff=True)
            return self._handoff(facts, probability, evidence.score)
        return Answer(
            self.composer.compose(evidence.facts),
            lang,
            intent,
            probability,
            evidence.score,
            False,
            evidence.citations,
        )

    def _handoff(self, facts: Facts, probability: float, confidence: float) -> Answer:
        text = self.composer.compose(facts)
        return Answer(text, facts.lang, facts.intent, probability, confidence, True)

    def _checked(self, question: str) -> str:
        question = question.strip()
        if not question:
            raise InvalidInputError("question must hold some text", field="question")
        if len(question) > self.settings.max_question_chars:
            raise InvalidInputError(
                f"question is longer than {self.settings.max_question_chars} characters",
                field="question",
            )
        return question

    def _evidence(
        self, question: str, vector: np.ndarray, intent: Intent, user_id: str | None, lang: str
    ) -> _Evidence:
        if intent in ITEM_INTENTS:
            return self._item_evidence(question, vector, intent, user_id, lang)
        faq = self._faq_index()
        hits = faq.search(vector, question, lang, self.settings.faq_entries)
        best = hits[0].score if hits else 0.0
        used = [hit for hit in hits if hit.score >= best - FAQ_MARGIN]
        entries = [faq.entries[hit.position] for hit in used]
        order = self._latest_order(user_id, lang) if intent is Intent.order_status else None
        citations = [Citation("faq", e.faq_id, e.question, h.score) for e, h in zip(entries, used)]
        if order is not None:
            citations.append(Citation("item", order.item_id, order.title, 1.0))
        facts = Facts(question, lang, intent, faq=entries, order=order)
        return _Evidence(facts, float(np.clip(best, 0.0, 1.0)), citations)

    def _item_evidence(
        self, question: str, vector: np.ndarray, intent: Intent, user_id: str | None, lang: str
    ) -> _Evidence:
        index = self._item_index()
        scores = index.scores(vector, question)
        cap = price_cap(question)
        if cap is not None:
            scores = np.where(
                index.items["price"].fillna(np.inf).to_numpy() <= cap, scores, -np.inf
            )
        pool = np.argsort(-scores, kind="stable")[:POOL]
        pool = pool[np.isfinite(scores[pool])]
        best = float(scores[pool[0]]) if len(pool) else 0.0
        if intent is Intent.recommendation and best < self.settings.handoff_below:
            served = self._recommended(question, user_id, lang)
            if served is not None:
                return served
        k = 1 if intent is Intent.product_question else self.settings.items
        taste = self._taste(index, user_id, pool) if intent is not Intent.product_question else None
        weight = self.engine.settings.scenarios.search_personalization
        if taste is not None and weight > 0:
            matches = rerank(pool, scores[pool], taste, weight)
            picked, personal = matches.items[:k], matches.affinity[:k] > 0
        else:
            picked, personal = pool[:k], np.zeros(min(k, len(pool)), dtype=bool)
        rows = index.items.iloc[picked].to_dict("records")
        facts_items = [item_fact(row, lang, bool(p)) for row, p in zip(rows, personal)]
        citations = [
            Citation("item", f.item_id, f.title, float(scores[i]))
            for f, i in zip(facts_items, picked)
        ]
        facts = Facts(question, lang, intent, items=facts_items)
        return _Evidence(facts, float(np.clip(best, 0.0, 1.0)), citations)

    def _recommended(self, question: str, user_id: str | None, lang: str) -> _Evidence | None:
        """The engine's recommendations for the shopper (popular items without one); None
        before the first training."""
        scenarios, k = self.engine.scenarios, self.settings.items
        try:
            served = scenarios.home(user_id, k, lang=lang) if user_id else scenarios.popular(k)
        except NotFittedError:
            return None
        rows = self._item_index().items.set_index("item_id", drop=False)
        shown = [r.item_id for r in served.items if r.item_id in rows.index]
        facts_items = [item_fact(rows.loc[i].to_dict(), lang, bool(user_id)) for i in shown]
        citations = [Citation("item", f.item_id, f.title, 1.0) for f in facts_items]
        facts = Facts(question, lang, Intent.recommendation, items=facts_items)
        return _Evidence(facts, 1.0 if facts_items else 0.0, citations)

    def _taste(self, index: ItemIndex, user_id: str | None, pool: np.ndarray) -> np.ndarray | None:
        if user_id is None:
            return None
        try:
            state = self.engine.profiles.state(user_id)
        except UnknownUserError:
            return None
        weights = state.decayed(state.categories, time.time_ns() // 1_000_000)
        return category_taste(index.items["category"].iloc[pool], weights)

    def _latest_order(self, user_id: str | None, lang: str) -> LatestOrder | None:
        if user_id is None:
            return None
        events = self.engine.store.recent_events(
            user_id, self.engine.settings.service.history_events
        )
        bought = events[(events["kind"] == PURCHASE) & events["item_id"].notna()]
        if bought.empty:
            return None
        last = bought.iloc[-1]
        item_id = str(last["item_id"])
        rows = self.engine.store.items([item_id]).to_dict("records")
        title = item_fact(rows[0], lang).title if rows else item_id
        date = datetime.fromtimestamp(int(last["ts"]) / 1000, UTC).date().isoformat()
        return LatestOrder(item_id, title, date)

    # ---- indexes ---------------------------------------------------------------------------

    def _faq_index(self) -> FaqIndex:
        entries = self.engine.store.faq()
        key = tuple((entry.faq_id, entry.updated_at) for entry in entries)
        with self._lock:
            if self._faq is None or self._faq[0] != key:
                self._faq = (key, FaqIndex(self, entries))
            return self._faq[1]

    def _item_index(self) -> ItemIndex:
        """The catalogue index. Once it is older than `refresh_seconds`, a background thread
        builds a new one while requests keep using this one: only the first build waits."""
        with self._lock:
            if self._items is None:
                self._items = (time.monotonic(), ItemIndex(self, self.engine.store.items()))
            built, index = self._items
            if time.monotonic() - built > self.settings.refresh_seconds and not self._refreshing:
                self._refreshing = True
                threading.Thread(
                    target=self._refresh_items, name="assistant-items", daemon=True
                ).start()
            return index

    def _refresh_items(self) -> None:
        try:
            fresh = (time.monotonic(), ItemIndex(self, self.engine.store.items()))
            with self._lock:
                self._items = fresh
        except TailorError as exc:
            log.warning("kept the assistant's catalogue index: %s", exc.message)
        finally:
            with self._lock:
                self._refreshing = False
