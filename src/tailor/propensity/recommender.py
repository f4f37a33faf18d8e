"""Recommender-score features: how strongly an item-kNN recommender, fitted only on the events
before the cutoff, points a user at the target.

`item_neighbours(past)` fits `tailor.models.itemknn.ItemKNN` on every user's events of the last
RECOMMENDER_DAYS, over the items at least MIN_ITEM_USERS users touched (an item one user touched
only says what that user did, and its similarities cost as much as any other's), and keeps the
similarities as a table. `recommender_features` scores each user as the model does, the
kind-weighted events of the same window times the similarities, and gives per pair:

- `rec_score`: the user's score of the item; for a category, of the category's best-scored item;
- `rec_score_sum`: the sum of the user's scores over the category's items (an item: its score);
- `rec_rank`: 1 + how many items the user scores higher than that;
- `rec_best_score`: the user's best score of any item.

Training fits one per window cutoff, serving the one fitted at the end of the training data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tailor.data.dataset import Dataset
from tailor.models.itemknn import ItemKNN
from tailor.types import DEFAULT_EVENT_WEIGHTS

RECOMMENDER_DAYS = 30
MIN_ITEM_USERS = 2
CHUNK_USERS = 4096  # users scored at once: bounds the memory of their score rows
COLUMNS = ["rec_score", "rec_score_sum", "rec_rank", "rec_best_score"]
NEIGHBOUR_COLUMNS = ["item_id", "neighbour", "neighbour_category", "similarity"]
ITEM_LEVEL = 0  # tailor.propensity.features.ITEM (that module imports this one)


def _window(past: pd.DataFrame) -> pd.DataFrame:
    """The events a score reads: the last RECOMMENDER_DAYS, of a kind the model weighs."""
    kinds, names = pd.factorize(past["kind"])
    weights = pd.Series(DEFAULT_EVENT_WEIGHTS).reindex(names).fillna(0.0).to_numpy()
    weight = np.append(weights, 0.0)[kinds]  # a missing kind (code -1) weighs nothing
    keep = (past["age"].to_numpy() < RECOMMENDER_DAYS) & past["item_id"].notna().to_numpy()
    keep &= weight > 0
    window = past.loc[keep, ["user_id", "item_id", "kind", "ts", "category"]]
    item_ids = window["item_id"]
    if not pd.api.types.is_string_dtype(item_ids):
        item_ids = item_ids.astype(str)
    return window.assign(item_id=item_ids, weight=weight[keep])


def item_neighbours(past: pd.DataFrame) -> pd.DataFrame:
    """ItemKNN's similarities fitted on `past` (see `before`): one row per (item, neighbour)."""
    window = _window(past)
    users_per_item = window.groupby("item_id")["user_id"].nunique()
    window = window[window["item_id"].isin(users_per_item.index[users_per_item >= MIN_ITEM_USERS])]
    if window.empty:
        return neighbour_table(pd.Index([], dtype=object), np.zeros(0), np.zeros(0), [], [])
    data = Dataset.from_events(window)
    similarity = ItemKNN().fit(data).similarity_.tocoo()
    ids = pd.Index(data.item_ids.to_list())
    categories = window.drop_duplicates("item_id").set_index("item_id")["category"].reindex(ids)
    categories = categories.where(categories.isna(), categories.astype(str))
    return neighbour_table(
        ids,
        similarity.row,
        similarity.col,
        categories.to_numpy(dtype=object)[similarity.col],
        similarity.data,
    )


def neighbour_table(ids: pd.Index, rows, cols, categories, similarity) -> pd.DataFrame:
    """The neighbours table: item and neighbour as categoricals over the same `ids`."""
    return pd.DataFrame(
        {
            "item_id": pd.Categorical.from_codes(np.asarray(rows, dtype=np.int64), categories=ids),
            "neighbour": pd.Categorical.from_codes(
                np.asarray(cols, dtype=np.int64), categories=ids
            ),
            "neighbour_category": pd.Categorical(categories),
            "similarity": np.asarray(similarity, dtype=np.float32),
        },
        columns=NEIGHBOUR_COLUMNS,
    )


def recommender_features(
    past: pd.DataFrame, pairs: pd.DataFrame, neighbours: pd.DataFrame
) -> pd.DataFrame:
    """COLUMNS for each row of `pairs` (user_id, target, level), indexed like `pairs`."""
    ids = neighbours["item_id"].cat.categories
    similarity = sp.csr_matrix(
        (
            neighbours["similarity"].to_numpy(np.float32),
            (neighbours["item_id"].cat.codes, neighbours["neighbour"].cat.codes),
        ),
        shape=(len(ids), len(ids)),
    )
    item_category = _item_categories(neighbours, len(ids))
    users = pd.Index(pairs["user_id"].unique())
    history = _history_matrix(past, users, ids)
    pair_user = users.get_indexer(pairs["user_id"])
    is_item = pairs["level"].to_numpy() == ITEM_LEVEL
    targets = pairs["target"].astype(str)
    pair_item = np.where(is_item, ids.get_indexer(targets), -1)
    pair_category = np.where(~is_item, item_category.categories.get_indexer(targets), -1)
    features = np.zeros((len(pairs), len(COLUMNS)))
    for start in range(0, len(users), CHUNK_USERS):
        chosen = np.flatnonzero((pair_user >= start) & (pair_user < start + CHUNK_USERS))
        scores = (history[start : start + CHUNK_USERS] @ similarity).tocoo()
        features[chosen] = _chunk_features(
            scores,
            pair_user[chosen] - start,
            pair_item[chosen],
            pair_category[chosen],
            item_category.codes,
        )
    return pd.DataFrame(features, index=pairs.index, columns=COLUMNS)


def _item_categories(neighbours: pd.DataFrame, n_items: int) -> pd.Categorical:
    """The category of each item of the table, by its code (every item is someone's neighbour:
    cosine similarity is symmetric)."""
    codes = np.full(n_items, -1, dtype=np.int64)
    categories = neighbours["neighbour_category"].cat
    codes[neighbours["neighbour"].cat.codes.to_numpy()] = categories.codes.to_numpy()
    return pd.Categorical.from_codes(codes, categories=categories.categories)


def _history_matrix(past: pd.DataFrame, users: pd.Index, ids: pd.Index) -> sp.csr_matrix:
    """(users, items) summed kind weights of the window's events, as the model's matrix."""
    window = _window(past)
    rows = users.get_indexer(window["user_id"])
    cols = ids.get_indexer(window["item_id"])
    keep = (rows >= 0) & (cols >= 0)
    matrix = sp.csr_matrix(
        (window["weight"].to_numpy(np.float32)[keep], (rows[keep], cols[keep])),
        shape=(len(users), len(ids)),
    )
    matrix.sum_duplicates()
    return matrix


def _chunk_features(
    scores: sp.coo_matrix,
    rows: np.ndarray,
    items: np.ndarray,
    categories: np.ndarray,
    item_category: np.ndarray,
) -> np.ndarray:
    """COLUMNS of the pairs whose users are `rows` of `scores` (item -1 for a category pair)."""
    if not scores.nnz:  # these users score nothing: every item ties at 0
        return np.column_stack([np.zeros((len(rows), 2)), np.ones(len(rows)), np.zeros(len(rows))])
    keys = np.sort(_user_score_keys(scores.row, scores.data))
    score = _item_scores(scores, rows, items)
    total = score.copy()
    best_of, sum_of = _category_scores(scores, item_category, rows, categories)
    is_category = items < 0
    score[is_category], total[is_category] = best_of[is_category], sum_of[is_category]
    next_user = np.searchsorted(keys, (rows.astype(np.int64) + 1) << 32, side="left")
    higher = next_user - np.searchsorted(keys, _user_score_keys(rows, score), side="right")
    user_start = np.searchsorted(keys, rows.astype(np.int64) << 32, side="left")
    best = np.where(next_user > user_start, _key_scores(keys[np.maximum(next_user - 1, 0)]), 0.0)
    return np.column_stack([score, total, 1.0 + higher, best])


def _user_score_keys(users: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(user, score) packed into one int64 that sorts like the pair: scores are positive float32,
    whose bits order like the numbers."""
    bits = np.asarray(scores, dtype=np.float32).view(np.int32).astype(np.int64)
    return (users.astype(np.int64) << 32) | bits


def _key_scores(keys: np.ndarray) -> np.ndarray:
    return (keys & 0xFFFFFFFF).astype(np.int32).view(np.float32).astype(np.float64)


def _item_scores(scores: sp.coo_matrix, rows: np.ndarray, items: np.ndarray) -> np.ndarray:
    """The user's score of each item pair's item (0 for a category pair or an unscored item)."""
    n_items = scores.shape[1]
    wanted, where = np.unique(rows.astype(np.int64) * n_items + items, return_inverse=True)
    entry_keys = scores.row.astype(np.int64) * n_items + scores.col
    position = np.minimum(np.searchsorted(wanted, entry_keys), len(wanted) - 1)
    found = wanted[position] == entry_keys
    values = np.zeros(len(wanted))
    values[position[found]] = scores.data[found]
    return np.where(items >= 0, values[where], 0.0)


def _category_scores(
    entries: sp.coo_matrix, item_category: np.ndarray, rows: np.ndarray, categories: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the best and the summed score of the user over the category's items (0 when
    none is scored or the pair is not a category pair)."""
    n_categories = int(item_category.max(initial=-1)) + 1
    wanted = categories >= 0
    best, total = np.zeros(len(rows)), np.zeros(len(rows))
    if not wanted.any() or n_categories == 0:
        return best, total
    entry_category = item_category[entries.col]
    entry_key = entries.row.astype(np.int64) * n_categories + entry_category
    pair_key = rows.astype(np.int64) * n_categories + categories
    keep = (entry_category >= 0) & np.isin(entry_key, pair_key[wanted])
    grouped = pd.Series(entries.data[keep].astype(np.float64)).groupby(entry_key[keep])
    found = pd.DataFrame({"best": grouped.max(), "total": grouped.sum()})
    matched = found.reindex(pair_key[wanted]).fillna(0.0)
    best[wanted], total[wanted] = matched["best"].to_numpy(), matched["total"].to_numpy()
    return best, total


def save_neighbours(table: pd.DataFrame, path: Path) -> None:
    """The table as numpy arrays (no pickle): ids, codes, category codes, similarities."""
    categories = table["neighbour_category"].cat
    np.savez(
        path,
        ids=table["item_id"].cat.categories.to_numpy(dtype=str),
        rows=table["item_id"].cat.codes.to_numpy(),
        cols=table["neighbour"].cat.codes.to_numpy(),
        categories=categories.categories.to_numpy(dtype=str),
        category_codes=categories.codes.to_numpy(),
        similarity=table["similarity"].to_numpy(),
    )


def load_neighbours(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    categories = pd.Categorical.from_codes(
        arrays["category_codes"], categories=pd.Index(arrays["categories"], dtype=object)
    )
    return neighbour_table(
        pd.Index(arrays["ids"], dtype=object),
        arrays["rows"],
        arrays["cols"],
        categories,
        arrays["similarity"],
    )
