"""The ranker's features: one row per candidate (user, item), computed for a whole batch at once.

- per source: its score and its rank (NaN / depth + 1 when it did not retrieve the item), and how
  many sources did;
- the item: popularity (log distinct users), recent popularity (log events in the last week of
  the data), age in days (from `created_at`, else its first event) at the reference time;
- price against the user's price band: the share of the user's history prices at or below the
  item's price, and the log ratio of the item's price to the user's mean price;
- category affinity: the share of the user's events in the item's category and top category;
- the user's events on the item and on its category by kind (view, cart, purchase), and how many
  events ago the user last touched either;
- the user's history length.

Everything is vectorised over candidates: no Python loop runs per candidate or per feature.
Missing values stay NaN, which LightGBM treats as missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tailor.data.dataset import Dataset
from tailor.rank.retrieval import Candidates
from tailor.types import CATEGORY_SEPARATOR

DAY_MS = 86_400_000
RECENT_DAYS = 7.0
KIND_GROUPS = ("view", "cart", "purchase")
_GROUP_OF_KIND = {"purchase": 2, "cart": 1, "favorite": 1}  # every other kind reads as a view
ITEM_FEATURES = ("item_popularity", "item_recent_popularity", "item_age_days")
USER_FEATURES = (
    "price_percentile", "price_log_ratio", "category_share", "top_category_share",
    *(f"item_{g}s" for g in KIND_GROUPS), *(f"category_{g}s" for g in KIND_GROUPS),
    "item_recency", "category_recency", "history_length",
)  # fmt: skip


def kind_groups(kinds: Sequence[str]) -> np.ndarray:
    """Kind code -> group code (0 view, 1 cart, 2 purchase), for kinds named in code order."""
    return np.array([_GROUP_OF_KIND.get(k, 0) for k in kinds], dtype=np.int8)


def feature_names(sources: Sequence[str]) -> list[str]:
    return [
        *(f"{s}_score" for s in sources),
        *(f"{s}_rank" for s in sources),
        "n_sources",
        *ITEM_FEATURES,
        *USER_FEATURES,
    ]


@dataclass(frozen=True)
class ItemStats:
    """What the ranker remembers of each item from its training data (saved with it)."""

    popularity: np.ndarray  # log1p(distinct users)
    recent: np.ndarray  # log1p(events in the last RECENT_DAYS before the reference time)
    first_ts: np.ndarray  # float ms: created_at when known, else the first event; NaN: neither
    reference_ts: float  # "now" of the training data: its cutoff, or its newest event

    @classmethod
    def of(cls, data: Dataset, reference_ts: float) -> ItemStats:
        recent = data.ts >= reference_ts - RECENT_DAYS * DAY_MS
        first = np.full(data.n_items, np.inf)
        np.minimum.at(first, data.items, data.ts.astype(np.float64))
        created = _column(data, "created_at")
        first = np.where(np.isfinite(created), created, first)
        return cls(
            popularity=np.log1p(data.item_counts).astype(np.float32),
            recent=np.log1p(np.bincount(data.items[recent], minlength=data.n_items)).astype(
                np.float32
            ),
            first_ts=np.where(np.isfinite(first), first, np.nan),
            reference_ts=float(reference_ts),
        )


@dataclass(frozen=True)
class ItemSide:
    """Per item_idx arrays the features read; `price` may be a live array (ItemFacts.price)."""

    stats: ItemStats
    price: np.ndarray  # NaN: unknown
    category: np.ndarray  # leaf category code, -1: none
    top: np.ndarray  # top-level category code, -1: none
    n_categories: int
    n_tops: int

    @classmethod
    def of(
        cls,
        stats: ItemStats,
        price: np.ndarray,
        categories: Sequence[str | None],
        tops: np.ndarray | None = None,
    ) -> ItemSide:
        """`tops`: the top-level category codes when already known (`ItemFacts.top`)."""
        paths = pd.Series(list(categories), dtype=object).where(lambda s: s.notna() & (s != ""))
        leaf, leaves = pd.factorize(paths)
        if tops is None:
            tops, _ = pd.factorize(paths.str.split(CATEGORY_SEPARATOR, n=1).str[0])
        tops = np.asarray(tops, dtype=np.int64)
        return cls(
            stats, price, leaf.astype(np.int64), tops, len(leaves), int(tops.max(initial=-1)) + 1
        )

    @classmethod
    def of_data(cls, stats: ItemStats, data: Dataset) -> ItemSide:
        frame = data.item_frame
        categories = (
            frame["category"].tolist()
            if frame is not None and "category" in frame
            else [None] * data.n_items
        )
        return cls.of(stats, _column(data, "price"), categories)


class FeatureBuilder:
    def __init__(self, sources: Sequence[str], items: ItemSide) -> None:
        self.sources = tuple(sources)
        self.items = items
        self.names = feature_names(self.sources)

    def build(
        self,
        candidates: Candidates,
        histories: Sequence[np.ndarray],
        groups: Sequence[np.ndarray],
    ) -> np.ndarray:
        """(len(candidates), len(names)) float32. `histories`: each batch row's latest events
        (item_idx, oldest first); `groups`: their kind groups (see `kind_groups`)."""
        if candidates.sources != self.sources:
            raise ValueError(f"candidates come from {candidates.sources}, not {self.sources}")
        row, item = candidates.row, candidates.item
        history = _History.of(histories, groups)
        stats = self.items.stats
        columns = [
            candidates.scores,
            candidates.ranks,
            np.isfinite(candidates.scores).sum(axis=1, dtype=np.float32)[:, None],
            np.stack(
                [
                    stats.popularity[item],
                    stats.recent[item],
                    (stats.reference_ts - stats.first_ts[item]) / DAY_MS,
                    *self._price(history, row, item),
                    *self._affinity(history, row, item),
                    history.lengths[row],
                ],
                axis=1,
            ),
        ]
        return np.concatenate(columns, axis=1, dtype=np.float32)

    def _price(self, history: _History, row: np.ndarray, item: np.ndarray) -> list[np.ndarray]:
        """Share of the user's history prices at or below the item's price; log price ratio to
        the user's mean price. NaN when the item's or all the user's prices are unknown."""
        hist_log = _log_price(self.items.price[history.items])
        known = np.isfinite(hist_log)
        n_users = len(history.lengths)
        counts = np.bincount(history.rows[known], minlength=n_users)
        totals = np.bincount(history.rows[known], weights=hist_log[known], minlength=n_users)
        # Rows x 1e3 plus a log price squashed into (0, 1): one sorted array serves all users.
        keys = np.sort(history.rows[known] * 1e3 + _squash(hist_log[known]))
        starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
        cand_log = _log_price(self.items.price[item])
        at = np.searchsorted(keys, row * 1e3 + _squash(cand_log), side="right") - starts[row]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.isfinite(cand_log) & (counts[row] > 0), at / counts[row], np.nan)
            ratio = cand_log - totals[row] / counts[row]
        return [share, ratio]

    def _affinity(self, history: _History, row: np.ndarray, item: np.ndarray) -> list[np.ndarray]:
        lengths = np.maximum(history.lengths[row], 1)
        n_items = len(self.items.price)
        by_item = _Lookup(history.rows * n_items + history.items, history.groups, history.ago)
        item_key = row * n_items + item
        by_leaf, leaf_key = _by_code(
            self.items.category, self.items.n_categories, history, row, item
        )
        by_top, top_key = _by_code(self.items.top, self.items.n_tops, history, row, item)
        on_item, item_recency = by_item.find(item_key)
        on_leaf, leaf_recency = by_leaf.find(leaf_key)
        on_top, _ = by_top.find(top_key)
        return [
            on_leaf.sum(axis=1) / lengths,
            on_top.sum(axis=1) / lengths,
            *on_item.T,
            *on_leaf.T,
            item_recency,
            leaf_recency,
        ]


def _by_code(
    codes: np.ndarray, n_codes: int, history: _History, row: np.ndarray, item: np.ndarray
) -> tuple[_Lookup, np.ndarray]:
    """A lookup of the history's events by (user, item code), and each candidate's key (-1:
    the item has no code)."""
    hist_codes = codes[history.items]
    lookup = _Lookup(
        history.rows * n_codes + hist_codes, history.groups, history.ago, valid=hist_codes >= 0
    )
    cand_codes = codes[item]
    return lookup, np.where(cand_codes >= 0, row * n_codes + cand_codes, -1)


@dataclass(frozen=True)
class _History:
    """A batch's histories flattened: one entry per event."""

    rows: np.ndarray
    items: np.ndarray
    groups: np.ndarray
    ago: np.ndarray  # events after this one in the user's history (0: the latest)
    lengths: np.ndarray  # float32 per batch row

    @classmethod
    def of(cls, histories: Sequence[np.ndarray], groups: Sequence[np.ndarray]) -> _History:
        lengths = np.fromiter((len(h) for h in histories), dtype=np.int64, count=len(histories))
        rows = np.repeat(np.arange(len(histories)), lengths)
        ends = np.cumsum(lengths)
        flat = np.arange(int(lengths.sum()))
        return cls(
            rows=rows,
            items=_flat(histories, np.int64),
            groups=_flat(groups, np.int8),
            ago=(ends[rows] - 1 - flat) if len(flat) else flat,
            lengths=lengths.astype(np.float32),
        )


class _Lookup:
    """Counts per kind group and recency of integer keys over a batch's events."""

    def __init__(
        self, keys: np.ndarray, groups: np.ndarray, ago: np.ndarray, valid: np.ndarray | None = None
    ) -> None:
        if valid is not None:
            keys, groups, ago = keys[valid], groups[valid], ago[valid]
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.counts = np.zeros((len(self.keys), len(KIND_GROUPS)), dtype=np.float32)
        np.add.at(self.counts, (inverse, groups), 1.0)
        self.latest_ago = np.full(len(self.keys), np.inf, dtype=np.float32)
        np.minimum.at(self.latest_ago, inverse, ago.astype(np.float32))

    def find(self, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query key: its events per kind group (0 for key -1 or an unseen key), and the
        events since the latest one on it (NaN if none)."""
        if not len(self.keys):
            return np.zeros((len(query), len(KIND_GROUPS)), np.float32), np.full(
                len(query), np.nan, np.float32
            )
        at = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        hit = (self.keys[at] == query) & (query >= 0)
        counts = np.where(hit[:, None], self.counts[at], np.float32(0))
        return counts, np.where(hit, self.latest_ago[at], np.float32(np.nan))


def _log_price(price: np.ndarray) -> np.ndarray:
    """log(price); NaN for an unknown or non-positive price."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(price > 0, price, np.nan))


def _squash(log_price: np.ndarray) -> np.ndarray:
    """A monotone map of any log price into (0, 1); NaN stays NaN."""
    return 0.5 + np.arctan(log_price) / np.pi


def _flat(arrays: Sequence[np.ndarray], dtype: type) -> np.ndarray:
    if not len(arrays):
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(a, dtype=dtype) for a in arrays])


def _column(data: Dataset, name: str) -> np.ndarray:
    """A numeric catalogue column aligned with item_idx (NaN where unknown)."""
    frame = data.item_frame
    if frame is None or name not in frame:
        return np.full(data.n_items, np.nan)
    values = frame[name]
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.astype("int64") // 1_000_000
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
