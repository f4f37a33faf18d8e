"""Behaviour of the synthetic shop's users, simulated with numpy over all sessions at once.

A user has about `SESSIONS_PER_60_DAYS * activity` sessions (activity is log-normal, so a few users
are very active), more on busy days of the week (`tailor.ingest.shop_calendar`), at their preferred
hour and on their preferred channel. A session may open with a
search (query words from the category or brand, in the user's language), then views: the first in a
category drawn from the user's taste; each next one is the planted successor of the previous item
(probability `successor_prob`), another item of the same leaf, or a fresh draw from the taste.
Popular items are viewed more (Zipf-like weights within a leaf). A view may lead to a favourite,
to the cart (price-sensitive, and more often while the item's leaf is on promotion) and to a
purchase at checkout. Purchases of consumables are repeated
after about the leaf's period; some purchases get a review whose rating follows the item's quality.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tailor.ingest.shop_calendar import draw_session_days
from tailor.ingest.shop_reviews import compose_reviews
from tailor.ingest.shop_words import CHANNELS

DAY_MS = 86_400_000
SESSIONS_PER_60_DAYS = 8.0
MAX_SESSION_VIEWS = 30
SESSION_END_PROB = 0.22  # a session has min(Geometric(SESSION_END_PROB), MAX_SESSION_VIEWS) views
SAME_LEAF_PROB = 0.3  # the next view is another item of the same leaf
KINDS = ("search", "view", "favorite", "cart", "purchase", "review")
SEARCH, VIEW, FAVORITE, CART, PURCHASE, REVIEW = range(len(KINDS))


def labels(names: list[str] | np.ndarray, codes: np.ndarray) -> pd.Series:
    """`names[codes]` as a `str` column, NA where a code is negative (done by Arrow, not Python)."""
    codes = np.asarray(codes)
    indices = pa.array(codes, mask=codes < 0, type=pa.int32())
    text = pa.DictionaryArray.from_arrays(indices, pa.array(names, pa.string())).cast(pa.string())
    return pd.Series(pd.array(text, dtype="str"))


class RowSampler:
    """Draws, for each entry of `rows`, a column index from the distribution `weights[row]`."""

    def __init__(self, weights: np.ndarray) -> None:
        self.k = weights.shape[1]
        cum = np.cumsum(weights, axis=1)
        self.flat = (cum / cum[:, -1:] + np.arange(len(weights))[:, None]).ravel()

    def __call__(self, rng: np.random.Generator, rows: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.flat, rows + rng.random(len(rows)), side="right")
        return np.clip(pos - rows * self.k, 0, self.k - 1)


@dataclass(frozen=True)
class Catalogue:
    """What behaviour needs to know about items, aligned with the items frame."""

    item_ids: list[str]
    leaf: np.ndarray  # leaf category of each item
    top: np.ndarray  # top category of each item
    price_z: np.ndarray  # log-price z-score within the leaf
    created_at: np.ndarray  # ms
    queries: list[str]  # 4 per item (code 4 * item + k): its leaf in zh, en; brand + leaf in zh, en
    repurchase_days: np.ndarray  # per leaf, NaN for durable goods


@dataclass(frozen=True)
class Population:
    """Latent traits of the users (aligned with the users frame) and the planted item structure."""

    user_ids: list[str]
    created_at: np.ndarray  # ms
    first_day: np.ndarray  # day of the window from which the user exists
    taste: RowSampler  # over leaf categories
    activity: np.ndarray  # mean 1, heavy-tailed
    cart_rate: np.ndarray  # P(cart | view at median price)
    buy_given_cart: float
    price_sensitivity: np.ndarray
    channel_weights: np.ndarray  # (n_users, len(CHANNELS))
    channel: RowSampler  # draws from channel_weights
    hour: np.ndarray  # preferred hour of day
    english: np.ndarray  # 1 when the user searches and reviews in English, else 0 (Chinese)
    successor: np.ndarray  # (n_items,) planted next item
    successor_prob: float
    popularity: np.ndarray  # (n_items,) view weight within the leaf
    quality: np.ndarray  # (n_items,)

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        cat: Catalogue,
        taste: np.ndarray,
        user_ids: list[str],
        user_created: np.ndarray,
        start_ms: int,
    ) -> Population:
        n_users, n_items = len(user_ids), len(cat.item_ids)
        activity = rng.lognormal(0.0, 0.9, n_users)
        channel_weights = rng.dirichlet(np.full(len(CHANNELS), 0.6), n_users)
        return cls(
            user_ids=user_ids,
            created_at=user_created,
            first_day=np.maximum(0, (user_created - start_ms) // DAY_MS),
            taste=RowSampler(taste),
            activity=activity / activity.mean(),
            cart_rate=rng.beta(2.0, 22.0, n_users),
            buy_given_cart=0.55,
            price_sensitivity=rng.beta(2.0, 2.0, n_users) * 1.5,
            channel_weights=channel_weights,
            channel=RowSampler(channel_weights),
            hour=rng.choice(np.array([9.0, 13.0, 21.0]), n_users, p=[0.25, 0.25, 0.5]),
            english=(rng.random(n_users) < 0.3).astype(np.int64),
            successor=_successors(rng, cat.top),
            successor_prob=0.45,
            popularity=rng.pareto(1.2, n_items) + 0.05,
            quality=rng.normal(0.0, 1.0, n_items),
        )


def _successors(rng: np.random.Generator, top: np.ndarray) -> np.ndarray:
    """Each item's successor: another item of the same top category (itself only if it is alone)."""
    order = np.argsort(top, kind="stable")
    starts = np.searchsorted(top[order], top[order], side="left")
    sizes = np.bincount(top)[top[order]]
    shift = 1 + rng.integers(0, np.maximum(sizes - 1, 1))
    succ_sorted = order[starts + (np.arange(len(top)) - starts + shift) % sizes]
    out = np.empty_like(order)
    out[order] = succ_sorted
    return out


class _LeafSampler:
    """Draws items of given leaves in proportion to their popularity."""

    def __init__(self, leaf: np.ndarray, popularity: np.ndarray) -> None:
        self.order = np.argsort(leaf, kind="stable")
        sorted_leaf, weights = leaf[self.order], popularity[self.order]
        totals = np.bincount(sorted_leaf, weights=weights)
        within = np.cumsum(weights) - np.repeat(
            np.cumsum(totals) - totals, np.bincount(sorted_leaf)
        )
        self.cum = sorted_leaf + within / totals[sorted_leaf]
        self.last = np.cumsum(np.bincount(sorted_leaf)) - 1

    def __call__(self, rng: np.random.Generator, leaves: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.cum, leaves + rng.random(len(leaves)), side="right")
        return self.order[np.minimum(pos, self.last[leaves])]


@dataclass
class _Events:
    """Columns of generated events; parts are concatenated once at the end. Codes of -1 mean none."""

    parts: list[dict[str, np.ndarray]]

    def add(
        self,
        kind: int,
        user: np.ndarray,
        item: np.ndarray,
        ts: np.ndarray,
        session: np.ndarray,
        channel: np.ndarray,
        *,
        value: np.ndarray | None = None,
        query: np.ndarray | None = None,
        text: np.ndarray | None = None,
    ) -> None:
        n = len(user)
        none = np.full(n, -1, dtype=np.int64)
        self.parts.append(
            {
                "kind": np.full(n, kind, dtype=np.int64),
                "user": user,
                "item": item,
                "ts": ts.astype(np.int64),
                "session": session,
                "channel": channel,
                "value": np.full(n, np.nan) if value is None else value.astype(float),
                "query": none if query is None else query,
                "text": none if text is None else text,
            }
        )

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([p[name] for p in self.parts])


@dataclass(frozen=True)
class _Sessions:
    user: np.ndarray
    start: np.ndarray  # ms
    channel: np.ndarray
    length: np.ndarray  # number of views
    window_start: int  # ms

    @classmethod
    def draw(cls, rng: np.random.Generator, pop: Population, start_ms: int, days: int) -> _Sessions:
        n_users = len(pop.user_ids)
        per_user = rng.poisson(pop.activity * SESSIONS_PER_60_DAYS * days / 60)
        user = np.repeat(np.arange(n_users), per_user)
        n = len(user)
        first = pop.first_day[user]
        day = draw_session_days(rng.random(n), first, start_ms, days)
        hour = (pop.hour[user] + rng.normal(0.0, 1.5, n)) % 24
        start = start_ms + day * DAY_MS + (hour * 3_600_000).astype(np.int64)
        return cls(
            user=user,
            start=np.maximum(start, pop.created_at[user]),
            channel=pop.channel(rng, user),
            length=np.minimum(rng.geometric(SESSION_END_PROB, n), MAX_SESSION_VIEWS),
            window_start=start_ms,
        )


def _browse(
    rng: np.random.Generator, pop: Population, cat: Catalogue, sessions: _Sessions
) -> tuple[np.ndarray, np.ndarray]:
    """Viewed items of all sessions, flat, and each session's offset into them."""
    sampler = _LeafSampler(cat.leaf, pop.popularity)
    offsets = np.concatenate([[0], np.cumsum(sessions.length)])
    views = np.empty(offsets[-1], dtype=np.int64)
    views[offsets[:-1]] = sampler(rng, pop.taste(rng, sessions.user))
    for step in range(1, int(sessions.length.max(initial=1))):
        active = np.flatnonzero(sessions.length > step)
        prev = views[offsets[active] + step - 1]
        r = rng.random(len(active))
        nxt = pop.successor[prev].copy()
        same = (r >= pop.successor_prob) & (r < pop.successor_prob + SAME_LEAF_PROB)
        fresh = r >= pop.successor_prob + SAME_LEAF_PROB
        nxt[same] = sampler(rng, cat.leaf[prev[same]])
        nxt[fresh] = sampler(rng, pop.taste(rng, sessions.user[active[fresh]]))
        views[offsets[active] + step] = nxt
    return views, offsets


def _uniform_ms(rng: np.random.Generator, low_s: float, high_s: float, n: int) -> np.ndarray:
    return (rng.uniform(low_s, high_s, n) * 1000).astype(np.int64)


def _funnel(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    sessions: _Sessions,
    events: _Events,
    cart_lift: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Searches, views, favourites, carts and purchases of the sessions; returns the purchases.

    `cart_lift[leaf, day]` multiplies the cart rate of views on that day (promotions)."""
    n_sessions = len(sessions.user)
    views, offsets = _browse(rng, pop, cat, sessions)
    session = np.repeat(np.arange(n_sessions), sessions.length)
    user, channel = sessions.user[session], sessions.channel[session]
    elapsed = np.cumsum(rng.exponential(45_000.0, len(views))).astype(np.int64)
    before = np.concatenate([[0], elapsed])[offsets[:-1]]
    ts = sessions.start[session] + elapsed - before[session]
    events.add(VIEW, user, views, ts, session, channel)

    searched = np.flatnonzero(rng.random(n_sessions) < 0.3)
    variant = 2 * (rng.random(len(searched)) < 0.3) + pop.english[sessions.user[searched]]
    events.add(
        SEARCH,
        sessions.user[searched],
        np.full(len(searched), -1),
        sessions.start[searched] - _uniform_ms(rng, 5, 30, len(searched)),
        searched,
        sessions.channel[searched],
        query=4 * views[offsets[searched]] + variant,
    )

    n = len(views)
    fav = rng.random(n) < 0.04
    events.add(
        FAVORITE,
        user[fav],
        views[fav],
        ts[fav] + _uniform_ms(rng, 2, 20, fav.sum()),
        session[fav],
        channel[fav],
    )
    p_cart = pop.cart_rate[user] * np.exp(-pop.price_sensitivity[user] * cat.price_z[views])
    view_day = np.clip((ts - sessions.window_start) // DAY_MS, 0, cart_lift.shape[1] - 1)
    p_cart = p_cart * cart_lift[cat.leaf[views], view_day]
    cart = rng.random(n) < np.minimum(p_cart, 0.9)
    events.add(
        CART,
        user[cart],
        views[cart],
        ts[cart] + _uniform_ms(rng, 5, 60, cart.sum()),
        session[cart],
        channel[cart],
    )
    bought = np.flatnonzero(cart & (rng.random(n) < pop.buy_given_cart))
    _, first = np.unique(session[bought] * len(cat.item_ids) + views[bought], return_index=True)
    bought = bought[np.sort(first)]
    checkout = ts[offsets[1:] - 1][session[bought]] + _uniform_ms(rng, 30, 300, len(bought))
    events.add(
        PURCHASE,
        user[bought],
        views[bought],
        checkout,
        session[bought],
        channel[bought],
        value=1 + (rng.random(len(bought)) < 0.15),
    )
    return user[bought], views[bought], checkout


def _repurchases(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    events: _Events,
    bought: tuple[np.ndarray, np.ndarray, np.ndarray],
    next_session: int,
    end_ms: int,
) -> tuple[list[tuple[np.ndarray, np.ndarray, np.ndarray]], int]:
    """Consumables are bought again after about their period, each time in a short new session."""
    generations = [bought]
    user, item, ts = bought
    while len(user):
        period = cat.repurchase_days[cat.leaf[item]]
        again = ~np.isnan(period) & (rng.random(len(user)) < 0.7)
        when = ts + (np.nan_to_num(period) * np.exp(rng.normal(0.0, 0.15, len(user))) * DAY_MS)
        keep = again & (when < end_ms)
        user, item, when = user[keep], item[keep], when[keep].astype(np.int64)
        session = next_session + np.arange(len(user))
        next_session += len(user)
        channel = pop.channel(rng, user)
        events.add(VIEW, user, item, when, session, channel)
        events.add(CART, user, item, when + _uniform_ms(rng, 10, 60, len(user)), session, channel)
        ts = when + _uniform_ms(rng, 60, 300, len(user))
        events.add(PURCHASE, user, item, ts, session, channel, value=np.ones(len(user)))
        generations.append((user, item, ts))
    return generations, next_session


def _reviews(
    rng: np.random.Generator, pop: Population, purchases: list[tuple], events: _Events, end_ms: int
) -> np.ndarray:
    """Some purchases are reviewed days later; the rating follows quality, the text (loosely) the
    rating (`tailor.ingest.shop_reviews`). Returns the texts the events' codes point into."""
    user, item, ts = (np.concatenate(parts) for parts in zip(*purchases))
    chosen = rng.random(len(user)) < 0.15
    user, item = user[chosen], item[chosen]
    ts = ts[chosen] + (rng.uniform(1, 10, len(user)) * DAY_MS).astype(np.int64)
    rating = np.clip(np.round(3.7 + 0.9 * pop.quality[item] + rng.normal(0, 0.8, len(user))), 1, 5)
    codes, texts = pd.factorize(compose_reviews(rng, rating, pop.english[user]).text)
    keep = ts < end_ms
    events.add(
        REVIEW,
        user[keep],
        item[keep],
        ts[keep],
        np.full(keep.sum(), -1),
        pop.channel(rng, user[keep]),
        value=rating[keep],
        text=codes[keep],
    )
    return np.asarray(texts, dtype=object)


def simulate_events(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    start_ms: int,
    cart_lift: np.ndarray,
    seed: int,
) -> pd.DataFrame:
    """All events of the window in canonical columns, sorted by time, with deterministic ids.

    The window has `cart_lift.shape[1]` days; `cart_lift[leaf, day]` multiplies the cart rate."""
    days = cart_lift.shape[1]
    end_ms = start_ms + days * DAY_MS
    sessions = _Sessions.draw(rng, pop, start_ms, days)
    events = _Events([])
    bought = _funnel(rng, pop, cat, sessions, events, cart_lift)
    purchases, n_sessions = _repurchases(rng, pop, cat, events, bought, len(sessions.user), end_ms)
    review_texts = _reviews(rng, pop, purchases, events, end_ms)
    item, ts = events.column("item"), events.column("ts")
    created = np.where(item >= 0, cat.created_at[np.maximum(item, 0)], 0)
    order = np.flatnonzero((ts >= start_ms) & (ts < end_ms) & (ts >= created))
    order = order[np.argsort(ts[order], kind="stable")]
    column = {name: events.column(name)[order] for name in events.parts[0]}
    ids = pc.binary_join_element_wise(
        f"syn{seed}-", pc.cast(pa.array(np.arange(len(order))), pa.string()), ""
    )
    return pd.DataFrame(
        {
            "event_id": pd.Series(pd.array(ids, dtype="str")),
            "user_id": labels(pop.user_ids, column["user"]),
            "item_id": labels(cat.item_ids, column["item"]),
            "kind": labels(list(KINDS), column["kind"]),
            "ts": column["ts"],
            "value": column["value"],
            "session_id": labels([f"s{seed}-{k}" for k in range(n_sessions)], column["session"]),
            "channel": labels(list(CHANNELS), column["channel"]),
            "query": labels(cat.queries, column["query"]),
            "text": labels(review_texts, column["text"]),
        }
    )
