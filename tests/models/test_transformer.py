"""SequenceTransformer on synthetic sequences with planted structure; tiny models, few epochs."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.models.transformer import SequenceTransformer, _training_sequences
from tailor.types import UserBatch

N_ITEMS = 40
TINY = {
    "dim": 32,
    "layers": 1,
    "heads": 2,
    "max_len": 12,
    "dropout": 0.1,
    "epochs": 12,
    "patience": 12,
    "batch_size": 64,
    "lr": 5e-3,
    "threads": 1,
    "validation_users": 0,
}


def markov_sequences(
    n_users: int = 400, length: int = 12, noise: float = 0.1, seed: int = 0
) -> tuple[dict[str, list[str]], np.ndarray]:
    """Each item is followed by `successor[item]` (a random permutation), except with prob `noise`."""
    rng = np.random.default_rng(seed)
    successor = rng.permutation(N_ITEMS)
    sequences = {}
    for u in range(n_users):
        item, seq = int(rng.integers(N_ITEMS)), []
        for _ in range(length):
            seq.append(f"i{item}")
            item = int(successor[item]) if rng.random() > noise else int(rng.integers(N_ITEMS))
        sequences[f"u{u}"] = seq
    return sequences, successor


@pytest.fixture(scope="module")
def chain() -> tuple[Dataset, np.ndarray, SequenceTransformer]:
    sequences, successor = markov_sequences()
    data = Dataset.from_sequences(sequences, {f"i{i}": "" for i in range(N_ITEMS)})  # idx == i
    model = SequenceTransformer(text=False, **(TINY | {"validation_users": 100})).fit(data)
    return data, successor, model


def test_learns_the_planted_markov_chain(chain) -> None:
    _data, successor, model = chain
    rng = np.random.default_rng(1)
    starts = rng.integers(N_ITEMS, size=200)
    histories = [[int(s), int(successor[s]), int(successor[successor[s]])] for s in starts]
    recs = model.recommend(UserBatch.of_histories(histories), k=1, exclude_seen=False)
    accuracy = np.mean(recs.item_idx[:, 0] == successor[[h[-1] for h in histories]])
    assert accuracy > 0.8  # chance: 1/40
    assert model.best_epoch_ >= 1 and len(model.train_log_) >= model.best_epoch_


def test_a_new_event_changes_the_recommendations_without_refit(chain) -> None:
    _data, successor, model = chain
    history = [3, int(successor[3])]
    new_item = 17
    before = model.recommend(UserBatch.of_histories([history]), k=1, exclude_seen=False)
    after = model.recommend(UserBatch.of_histories([history + [new_item]]), k=1, exclude_seen=False)
    assert before.item_idx[0, 0] == successor[history[-1]]
    assert after.item_idx[0, 0] == successor[new_item]


def test_save_load_gives_identical_recommendations(chain, tmp_path: Path) -> None:
    data, _, model = chain
    model.save(tmp_path / "transformer")
    loaded = SequenceTransformer.load(tmp_path / "transformer")
    users = data.user_batch(np.arange(50), max_len=12)
    before, after = model.recommend(users, k=10), loaded.recommend(users, k=10)
    np.testing.assert_array_equal(before.item_idx, after.item_idx)
    np.testing.assert_allclose(before.scores, after.scores, rtol=1e-6)


def test_empty_history_gets_popularity(chain) -> None:
    data, _, model = chain
    recs = model.recommend(UserBatch.of_histories([[]]), k=3)
    counts = np.bincount(data.items, minlength=data.n_items)
    assert counts[recs.item_idx[0]].min() >= np.sort(counts)[-3]


def test_same_seed_same_model() -> None:
    sequences, _ = markov_sequences(n_users=60)
    data = Dataset.from_sequences(sequences)
    fast = TINY | {"epochs": 2}
    a = SequenceTransformer(text=False, **fast).fit(data)
    b = SequenceTransformer(text=False, **fast).fit(data)
    np.testing.assert_array_equal(a.item_table_, b.item_table_)


def test_training_stops_at_the_time_budget_and_follows_the_schedule() -> None:
    sequences, _ = markov_sequences(n_users=60)
    data = Dataset.from_sequences(sequences)
    budget = TINY | {"epochs": 5, "lr_schedule": "warmup_linear", "max_train_seconds": 1e-6}
    model = SequenceTransformer(text=False, **budget).fit(data)
    assert [e["epoch"] for e in model.train_log_] == [1]
    untimed = SequenceTransformer(text=False, **(budget | {"max_train_seconds": None})).fit(data)
    assert len(untimed.train_log_) == 5


def test_every_window_makes_each_event_but_the_first_a_target_once() -> None:
    sequences = {f"u{n}": [f"i{k}" for k in range(n)] for n in (1, 2, 5, 9, 23)}
    data = Dataset.from_sequences(sequences)
    latest, _, _ = _training_sequences(data, 4, 0, np.random.default_rng(0))
    seqs, kinds, _ = _training_sequences(data, 4, 0, np.random.default_rng(0), every_window=True)
    assert latest.shape == (5, 5) and kinds.shape == seqs.shape
    targets = [
        int(target)
        for row in seqs
        for before, target in itertools.pairwise(row)
        if before and target
    ]
    expected = [
        int(item) + 1
        for u in range(data.n_users)
        for item in data.items[data.indptr[u] + 1 : data.indptr[u + 1]]
    ]
    assert sorted(targets) == sorted(expected)


def test_training_on_every_window_learns_what_only_early_events_show() -> None:
    """Each user walks one chain over items 0-19 for 10-19 steps, then another over 20-39 for 9.
    The latest 9 events (max_len 8) hold only the second chain, so only training on every window
    learns the first."""
    rng = np.random.default_rng(0)
    successor = np.concatenate([rng.permutation(20), 20 + rng.permutation(20)])
    sequences = {}
    for u in range(300):
        seq = []
        for item, steps in ((rng.integers(20), rng.integers(10, 20)), (20 + rng.integers(20), 9)):
            for _ in range(steps):
                seq.append(f"i{item}")
                item = successor[item]
        sequences[f"u{u}"] = seq
    data = Dataset.from_sequences(sequences, {f"i{i}": "" for i in range(N_ITEMS)})  # idx == i
    starts = np.arange(20)
    histories = [[int(s), int(successor[s])] for s in starts]
    wanted = successor[successor[starts]]

    def accuracy(windows: str) -> float:
        params = TINY | {"max_len": 8, "epochs": 15, "train_windows": windows}
        model = SequenceTransformer(text=False, **params).fit(data)
        recs = model.recommend(UserBatch.of_histories(histories), k=1, exclude_seen=False)
        return float(np.mean(recs.item_idx[:, 0] == wanted))

    assert accuracy("all") > 0.8
    assert accuracy("latest") < 0.2


SKIN = [
    "Hydrating face cream",
    "保湿面霜",
    "Moisturizing facial serum",
    "Night repair cream",
    "Anti-aging eye cream",
    "Gentle foaming cleanser",
    "Vitamin C serum",
    "面部精华液",
]
SPORT = [
    "Running shoes for men",
    "运动跑鞋",
    "Official size basketball",
    "Yoga mat non-slip",
    "Tennis racket",
    "篮球",
    "Trail running sneakers",
    "Cycling gloves",
]


def bilingual_shop(never_bought: dict[str, str]) -> tuple[Dataset, SequenceTransformer]:
    """Users shop skin care (odd users) or sport (even) in a zh/en catalogue, plus items nobody bought."""
    rng = np.random.default_rng(0)
    text = {f"skin{i}": t for i, t in enumerate(SKIN)} | {
        f"sport{i}": t for i, t in enumerate(SPORT)
    }
    sequences = {}
    for u in range(160):
        theme = "skin" if u % 2 else "sport"
        sequences[f"u{u}"] = [f"{theme}{i}" for i in rng.integers(len(SKIN), size=8)]
    data = Dataset.from_sequences(sequences, text | never_bought)
    return data, SequenceTransformer(**(TINY | {"epochs": 15, "max_len": 8})).fit(data)


def test_cold_items_get_sensible_scores_from_text() -> None:
    """Users shop within one theme; a never-bought item scores higher for users of its own theme."""
    data, model = bilingual_shop(
        {"cold-skin": "Hydrating night cream 面霜", "cold-sport": "Basketball shoes 篮球鞋"}
    )
    cold = data.item_ids.indices(["cold-skin", "cold-sport"])
    users = data.user_batch(np.arange(data.n_users))
    scores = model._score(users)[:, cold]
    assert np.isfinite(scores).all()
    skin_user = np.array([u % 2 == 1 for u in range(160)])
    prefers_skin = scores[:, 0] > scores[:, 1]
    assert np.mean(prefers_skin == skin_user) > 0.9


def test_items_newer_than_the_model_are_ignored(chain) -> None:
    _, successor, model = chain
    history = [5, int(successor[5])]
    plain = model.recommend(UserBatch.of_histories([history]), k=5, exclude_seen=False)
    with_new = model.recommend(
        UserBatch.of_histories([history + [N_ITEMS + 3]]), k=5, exclude_seen=False
    )
    np.testing.assert_array_equal(plain.item_idx, with_new.item_idx)


THEMES = ["face cream", "running shoes", "frying pan", "toy car", "dog food", "guitar strings"]
THEMES += [
    "coffee beans",
    "garden hose",
    "phone charger",
    "winter jacket",
    "board game",
    "wine glass",
]
WARM = 6  # items per theme with events; item WARM of each theme has text but no events


def themed_shop(seed: int = 0) -> tuple[Dataset, np.ndarray]:
    """Users buy within one theme (20% of events anywhere); each theme has one never-bought item."""
    rng = np.random.default_rng(seed)
    text = {f"t{k}-{i}": f"{w}, model {i}" for k, w in enumerate(THEMES) for i in range(WARM + 1)}
    theme = np.arange(240) % len(THEMES)
    sequences = {}
    for u, k in enumerate(theme):
        themes = np.where(rng.random(10) < 0.2, rng.integers(len(THEMES), size=10), k)
        sequences[f"u{u}"] = [f"t{t}-{i}" for t, i in zip(themes, rng.integers(WARM, size=10))]
    return Dataset.from_sequences(sequences, text), theme


@pytest.fixture(scope="module")
def themed() -> tuple[Dataset, np.ndarray, SequenceTransformer]:
    data, theme = themed_shop()
    model = SequenceTransformer(**(TINY | {"epochs": 15, "max_len": 10})).fit(data)
    return data, theme, model


def test_the_model_knows_which_items_had_training_events(themed, tmp_path: Path) -> None:
    data, _, model = themed
    never_bought = data.item_ids.indices([f"t{k}-{WARM}" for k in range(len(THEMES))])
    expected = np.ones(data.n_items, dtype=bool)
    expected[never_bought] = False
    np.testing.assert_array_equal(model.trained_items_, expected)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(SequenceTransformer.load(tmp_path / "m").trained_items_, expected)


def test_a_never_bought_item_is_recommended_to_users_of_its_theme(themed) -> None:
    """Its text-tower vector ranks it among its theme's bought items, above every other theme's,
    and it reaches the top 10 of most of the theme's users."""
    data, theme, model = themed
    users = data.user_batch(np.arange(data.n_users))
    scores = model._score(users)
    top10 = model.recommend(users, k=10).item_idx
    ranks, beats_unrelated, in_top10 = [], [], []
    for k in range(len(THEMES)):
        cold = data.item_ids.index(f"t{k}-{WARM}")
        unrelated = [f"t{o}-{i}" for o in range(len(THEMES)) if o != k for i in range(WARM)]
        own = scores[theme == k]
        ranks.append((own > own[:, [cold]]).sum(1))
        beats_unrelated.append(own[:, [cold]] > own[:, data.item_ids.indices(unrelated)])
        in_top10.append((top10[theme == k] == cold).any(1))
    assert np.mean(np.concatenate(beats_unrelated)) > 0.95
    assert np.mean(np.concatenate(ranks)) < WARM - 1  # not trailing its theme's bought items
    assert np.mean(np.concatenate(in_top10)) > 0.5


def test_a_never_bought_items_place_does_not_depend_on_the_scale_of_its_tower(themed) -> None:
    """Tower scores reach the fused scale through each user's quantiles, so a tower a hundred times
    less sure (raw scores near zero, below most bought items) still gives the same top 10s."""
    data, theme, model = themed
    users = data.user_batch(np.arange(data.n_users))
    top10 = model.recommend(users, k=10).item_idx
    unsure = copy.deepcopy(model)
    unsure.tower_table_ = unsure.tower_table_ / 100
    unsure.item_table_[1:][~unsure.trained_items_] /= 100
    np.testing.assert_array_equal(unsure.recommend(users, k=10).item_idx, top10)
    never_bought = data.item_ids.indices([f"t{k}-{WARM}" for k in range(len(THEMES))])
    assert np.mean((top10 == never_bought[theme][:, None]).any(1)) > 0.5


def test_chinese_text_gives_sensible_neighbours_for_a_never_bought_item() -> None:
    """A bilingual catalogue: the neighbours of a never-bought Chinese item are of its theme."""
    data, model = bilingual_shop({"新品面霜": "保湿滋润面霜 晚霜"})
    recs = model.similar_items([data.item_ids.index("新品面霜")], k=len(SKIN) + len(SPORT))
    neighbours = data.item_ids.ids(recs.item_idx[0])
    assert all(item.startswith("skin") for item in neighbours[:5])
    assert recs.scores[0, 4] > recs.scores[0, -1]  # ranked by similarity, not by ties
