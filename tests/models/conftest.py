"""A small shop with planted structure: users in 4 clusters, each clicking within its own block
of items, plus a few globally popular items everyone touches now and then."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tailor.data.dataset import Dataset

N_CLUSTERS = 4
USERS_PER_CLUSTER = 50
ITEMS_PER_BLOCK = 20
N_GLOBAL = 8  # items after the blocks, popular with everybody
N_ITEMS = N_CLUSTERS * ITEMS_PER_BLOCK + N_GLOBAL


def block_of(item_idx: np.ndarray, data: Dataset) -> np.ndarray:
    """The cluster an item belongs to (-1 for the global items), from its id `c<cluster>-<n>`."""
    ids = data.item_ids.ids(item_idx)
    return np.array([int(i[1]) if i.startswith("c") else -1 for i in ids])


def make_clustered(seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(N_CLUSTERS):
        for u in range(USERS_PER_CLUSTER):
            user = f"u{cluster}-{u}"
            n_events = int(rng.integers(6, 12))
            ts = 1_700_000_000_000 + np.sort(rng.integers(0, 30 * 86_400_000, n_events))
            for t in ts:
                if rng.random() < 0.1:
                    item = f"g{rng.integers(N_GLOBAL)}"
                else:
                    item = f"c{cluster}-{rng.integers(ITEMS_PER_BLOCK)}"
                kind = "purchase" if rng.random() < 0.2 else "view"
                rows.append((user, item, kind, int(t)))
    events = pd.DataFrame(rows, columns=["user_id", "item_id", "kind", "ts"])
    return Dataset.from_events(events)


@pytest.fixture(scope="session")
def item_block():
    """`item_block(item_idx, data)`: each item's cluster, -1 for the global items."""
    return block_of


@pytest.fixture(scope="session")
def clustered() -> Dataset:
    return make_clustered()
