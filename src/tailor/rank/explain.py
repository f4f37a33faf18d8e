"""Reasons a shopper can read, in Chinese or English, for each recommended item.

An item brought by a model that relates items to items (ItemKNN, EASE, ALS, content, sequence)
names the history item that contributed most under that model: the one with the largest
item-item weight to it (ItemKNN similarity, EASE weight, ALS factor cosine). The wording follows
what the shopper did with that item (viewed, added to cart, favourited, bought, rated). An item
brought by a popularity model is a new arrival or popular in its top-level category.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from tailor.errors import InvalidInputError
from tailor.models import Recommender
from tailor.rank.items import ItemFacts
from tailor.rank.sparse_rows import block

# (history item_idx, picked item_idx) -> (len(history), len(picked)) item-item weights
Affinity = Callable[[np.ndarray, np.ndarray], np.ndarray]
LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"
VIEWED, CART, FAVORITE, PURCHASE, RATED = "viewed", "cart", "favorite", "purchase", "rated"
POPULAR_IN, POPULAR, NEW = "popular_in", "popular", "new"

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        VIEWED: "because you viewed {title}",
        CART: "because you added {title} to your cart",
        FAVORITE: "because you favourited {title}",
        PURCHASE: "because you bought {title}",
        RATED: "because you rated {title}",
        POPULAR_IN: "popular in {category}",
        POPULAR: "popular right now",
        NEW: "new arrival",
    },
    "zh": {
        VIEWED: "因为你浏览了 {title}",
        CART: "因为你加购了 {title}",
        FAVORITE: "因为你收藏了 {title}",
        PURCHASE: "因为你购买了 {title}",
        RATED: "因为你评价了 {title}",
        POPULAR_IN: "热销于 {category}",
        POPULAR: "当前热销",
        NEW: "新品",
    },
}
# The event kinds a reason can name, strongest first; other positive kinds read as a view.
KIND_CODES: dict[str, str] = {
    "purchase": PURCHASE,
    "cart": CART,
    "favorite": FAVORITE,
    "rating": RATED,
    "review": RATED,
}
_STRENGTH = {code: rank for rank, code in enumerate(KIND_CODES.values())}
# "中文 English": a CJK part, blanks, then a part starting with a Latin letter.
_BILINGUAL = re.compile(r"^(?P<zh>[^A-Za-z]*[\u3400-\u9fff][^A-Za-z]*?)\s+(?P<en>[A-Za-z].*)$")


@dataclass(frozen=True)
class Explanation:
    code: str
    text: str
    anchor_item_id: str | None = None


@dataclass(frozen=True)
class ModelRank:
    rank: int  # 1-based, in the model's own list for this user
    score: float  # the model's own score


@dataclass(frozen=True)
class Contributions:
    """What produced an item: the models that ranked (or retrieved) it, the boosts applied to it,
    and with a learned ranker the features that moved its score most (their credit along the
    item's decision paths through the ranker's trees)."""

    models: dict[str, ModelRank]
    rules: list[str]
    features: dict[str, float] = field(default_factory=dict)


def language(lang: str | None, accept_language: str | None = None) -> str:
    """`lang` when given (zh, en, or a tag such as zh-CN), else the best supported language of an
    Accept-Language header, else English."""
    if lang:
        primary = lang.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            raise InvalidInputError(
                f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}", field="lang"
            )
        return primary
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=")
        try:
            weight = float(q) if params else 1.0
        except ValueError:
            continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and weight > 0:
            ranked.append((weight, primary))
    return max(ranked, key=lambda r: r[0])[1] if ranked else DEFAULT_LANGUAGE


def localized(text: str, lang: str) -> str:
    """The `lang` half of a bilingual "中文 English" label; any other text as it is."""
    match = _BILINGUAL.match(text.strip())
    return match.group(lang).strip() if match else text


def title(items: ItemFacts, idx: int, lang: str) -> str:
    """The item's title in `lang`: attribute `title_<lang>`, else the matching half of a bilingual
    title, else the title, else the item id."""
    attributes = items.attributes[idx]
    if isinstance(attributes, Mapping) and attributes.get(f"title_{lang}"):
        return str(attributes[f"title_{lang}"])
    return localized(items.title[idx], lang) or items.item_ids.id(idx)


def render(code: str, lang: str, **names: str) -> str:
    return TEMPLATES[lang][code].format(**names)


class Explainer:
    """Explains picked items from the fitted models that relate items to items."""

    def __init__(
        self,
        models: Mapping[str, Recommender],
        items: ItemFacts,
        factors: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        """`factors`: unit item vectors of the models built on them (ALS, the Transformer), whose
        cosine is their similarity:
        the few rows needed are multiplied instead of a full similarity row per history item."""
        self.similar = {n: m for n, m in models.items() if m.supports_similar_items}
        self.factors = dict(factors or {})
        self.items = items

    def explain(
        self,
        picked: np.ndarray,
        sources: Sequence[str],
        history: np.ndarray,
        kinds: Sequence[str],
        new: np.ndarray,
        lang: str,
    ) -> list[Explanation]:
        """One explanation per picked item; `sources` names each item's main model, `history`
        and `kinds` are the user's positive events (item_idx, kind), `new` flags new arrivals."""
        anchor = np.full(len(picked), -1, dtype=np.int64)
        if len(history):
            for name in set(sources) & set(self.similar):
                rows = np.array([s == name for s in sources])
                anchor[rows] = anchors(self._affinity(name), history, picked[rows])
        strongest = strongest_kinds(history, kinds)
        return [
            self._one(int(item), int(a), strongest, bool(is_new), lang)
            for item, a, is_new in zip(picked, anchor, new)
        ]

    def _affinity(self, name: str) -> Affinity:
        unit = self.factors.get(name)
        if unit is not None:
            # einsum, not @: a small matrix product would pay for starting BLAS threads
            return lambda history, picked: np.einsum("hd,pd->hp", unit[history], unit[picked])
        model = self.similar[name]
        weights = getattr(model, "similarity_", None)
        if sp.issparse(weights):  # item-kNN, co-bought: read the few entries, no dense rows
            return lambda history, picked: block(weights, history, picked)
        dense = getattr(model, "weights_", None)
        if isinstance(dense, np.ndarray):  # EASE: the (history x picked) block, not whole rows
            return lambda history, picked: dense[np.ix_(history, picked)].astype(np.float32)
        similar = model._similar  # the model's item-item weights (DESIGN section 3)
        return lambda history, picked: np.asarray(similar(history), dtype=np.float32)[:, picked]

    def _one(
        self, item: int, anchor: int, strongest: dict[int, str], new: bool, lang: str
    ) -> Explanation:
        if anchor >= 0:
            code = strongest.get(anchor, VIEWED)
            text = render(code, lang, title=title(self.items, anchor, lang))
            return Explanation(code, text, self.items.item_ids.id(anchor))
        if new:
            return Explanation(NEW, render(NEW, lang))
        return popularity_reason(self.items, item, lang)


def popularity_reason(items: ItemFacts, item: int, lang: str) -> Explanation:
    top = int(items.top[item])
    if top < 0:
        return Explanation(POPULAR, render(POPULAR, lang))
    return Explanation(
        POPULAR_IN, render(POPULAR_IN, lang, category=localized(items.top_names[top], lang))
    )


def anchors(affinity: Affinity, history: np.ndarray, picked: np.ndarray) -> np.ndarray:
    """For each picked item, the history item with the largest item-item weight to it (`affinity`
    gives weight[h, i]: how much history item h raises item i's score); -1 if none is positive."""
    unique = np.unique(history)
    weights = np.array(affinity(unique, picked), dtype=np.float32)
    weights[unique[:, None] == picked[None, :]] = -np.inf
    best = np.argmax(weights, axis=0)
    found = weights[best, np.arange(len(picked))] > 0
    return np.where(found, unique[best], -1)


def strongest_kinds(history: np.ndarray, kinds: Sequence[str]) -> dict[int, str]:
    """Per history item, the strongest reason code among the user's events on it."""
    strongest: dict[int, str] = {}
    for item, kind in zip(history.tolist(), kinds):
        code = KIND_CODES.get(kind, VIEWED)
        held = strongest.get(item)
        if held is None or _STRENGTH.get(code, len(_STRENGTH)) < _STRENGTH.get(
            held, len(_STRENGTH)
        ):
            strongest[item] = code
    return strongest
