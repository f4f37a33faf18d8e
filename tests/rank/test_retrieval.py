"""Retrieval: faiss indexes, the three kinds of source, and the merged candidate table."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.data.dataset import Dataset
from tailor.ingest.synthetic import generate_shop
from tailor.models.als import ALS
from tailor.models.content import ContentModel
from tailor.models.itemknn import ItemKNN
from tailor.models.popular import Popular
from tailor.rank.retrieval import PriorSource, Retriever, SimilaritySource, VectorIndex, merge
from tailor.settings import RankerSettings
from tailor.types import Recs, UserBatch


@pytest.fixture(scope="module")
def shop() -> Dataset:
    s = generate_shop(300, 120, days=20, seed=3)
    return Dataset.from_events(s.events, s.items)


@pytest.fixture(scope="module")
def models(shop):
    return {
        "popular": Popular().fit(shop),
        "itemknn": ItemKNN().fit(shop),
        "als": ALS(factors=16, iterations=5, num_threads=1).fit(shop),
    }


def users_of(shop: Dataset, n: int = 20) -> UserBatch:
    return shop.user_batch(np.arange(n), max_len=50)


def test_exact_index_below_the_threshold_hnsw_above():
    vectors = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float32)
    exact = VectorIndex.build(vectors, RankerSettings(hnsw_threshold=500))
    approx = VectorIndex.build(vectors, RankerSettings(hnsw_threshold=499))
    assert exact.is_exact and not approx.is_exact
    queries = vectors[:10]
    truth = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    scores, found = exact.search(queries, 10, ef_search=64)
    assert (found == truth).all()
    assert np.allclose(scores, np.take_along_axis(queries @ vectors.T, truth, axis=1), rtol=1e-4)
    _, near = approx.search(queries, 10, ef_search=64)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(near, truth)])
    assert recall >= 0.9


def test_a_vector_source_finds_the_models_own_top_items(shop, models):
    users = users_of(shop)
    allowed = np.ones(shop.n_items, dtype=bool)
    seen = [np.asarray(h) for h in users.histories]
    retriever = Retriever({"als": models["als"]}, RankerSettings(candidates_per_source=15))
    found = retriever.sources["als"].retrieve(users, 15, allowed, seen)
    own = models["als"].recommend(users, 15, exclude_seen=True)
    assert (found.item_idx == own.item_idx).mean() > 0.95  # float ties may swap neighbours
    assert np.allclose(found.scores, own.scores, atol=1e-4)


def test_sources_respect_the_allowed_mask_and_the_exclusions(shop, models):
    users = users_of(shop)
    allowed = np.zeros(shop.n_items, dtype=bool)
    allowed[::7] = True  # a narrow filter: 18 of 120 items
    exclude = [np.flatnonzero(allowed)[:3]] * len(users)
    retriever = Retriever(models, RankerSettings(candidates_per_source=10))
    for name, source in retriever.sources.items():
        recs = source.retrieve(users, 10, allowed, exclude)
        got = recs.item_idx[recs.item_idx >= 0]
        assert allowed[got].all(), name
        assert not np.isin(got, exclude[0]).any(), name
        if name != "itemknn":  # similarity sources retrieve only the items they reach
            assert (recs.item_idx >= 0).sum(axis=1).min() == 10, name  # 15 allowed are left


def test_a_similarity_source_is_the_models_ranking_of_the_items_it_reaches(shop, models):
    users = users_of(shop)
    allowed = np.ones(shop.n_items, dtype=bool)
    allowed[::3] = False
    seen = [np.asarray(h) for h in users.histories]
    source = Retriever(models, RankerSettings()).sources["itemknn"]
    assert isinstance(source, SimilaritySource)
    found = source.retrieve(users, 30, allowed, seen)
    own = models["itemknn"].recommend(
        users, 30, candidates=np.flatnonzero(allowed), exclude=seen, exclude_seen=False
    )
    reached = own.scores > 0
    assert np.array_equal(np.where(reached, own.item_idx, -1), found.item_idx)
    assert np.allclose(found.scores[reached], own.scores[reached])


def test_a_prior_source_is_its_ranking_filtered_per_user():
    source = PriorSource(np.array([5.0, 1.0, 9.0, 7.0, 3.0]))
    allowed = np.array([True, True, True, False, True])
    users = UserBatch.of_histories([[2], []])
    recs = source.retrieve(users, 3, allowed, [np.array([2]), np.array([], np.int64)])
    assert recs.item_idx.tolist() == [[0, 4, 1], [2, 0, 4]]
    assert recs.scores.tolist() == [[5.0, 3.0, 1.0], [9.0, 5.0, 3.0]]


def test_merge_keeps_each_sources_rank_and_score_and_marks_the_missing():
    a = Recs(np.array([[4, 2], [1, -1]]), np.array([[0.9, 0.5], [0.7, -np.inf]], np.float32))
    b = Recs(np.array([[2, 7], [3, 1]]), np.array([[3.0, 2.0], [8.0, 6.0]], np.float32))
    merged = merge({"a": a, "b": b}, n_users=2, depth=2)
    assert merged.sources == ("a", "b")
    assert merged.indptr.tolist() == [0, 3, 5]
    assert merged.item.tolist() == [2, 4, 7, 1, 3]
    assert merged.ranks.tolist() == [[2, 1], [1, 3], [3, 2], [1, 2], [3, 1]]
    assert np.isnan(merged.scores[2, 0]) and merged.scores[0].tolist() == [0.5, 3.0]
    assert merged.best_source().tolist() == [1, 0, 1, 0, 1]
    prefer_a = np.array([True, False])
    assert merged.best_source(prefer_a).tolist() == [0, 0, 1, 0, 1]  # item 7 and 3: a missed them


def test_approximate_indexes_are_saved_and_loaded(tmp_path, shop, models):
    settings = RankerSettings(hnsw_threshold=10, candidates_per_source=10)
    retriever = Retriever(models, settings)
    assert not retriever.indexes["als"].is_exact
    retriever.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["als.faiss"]
    again = Retriever(models, settings, Retriever.load_indexes(tmp_path))
    users = users_of(shop)
    allowed = np.ones(shop.n_items, dtype=bool)
    no = [np.empty(0, np.int64)] * len(users)
    first, second = retriever.retrieve(users, allowed, no), again.retrieve(users, allowed, no)
    assert (first.item == second.item).all() and np.array_equal(first.ranks, second.ranks)


def test_the_content_source_reaches_an_item_without_events():
    texts = {
        "cream": "Hydrating face cream",
        "serum": "Moisturizing facial serum",
        "shoe": "Running shoes for men",
        "ball": "Official size basketball",
        "lotion": "Moisturizing face lotion",  # in the catalogue, never touched
    }
    data = Dataset.from_sequences({"u1": ["cream", "serum"], "u2": ["shoe", "ball"]}, texts)
    content = ContentModel().fit(data)
    retriever = Retriever({"content": content}, RankerSettings(candidates_per_source=2))
    users = data.user_batch([0])
    found = retriever.retrieve(users, np.ones(data.n_items, bool), [np.asarray(users.histories[0])])
    assert data.item_ids.index("lotion") in found.item.tolist()
