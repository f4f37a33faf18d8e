"""The engine end to end on a small synthetic shop: train, then answer from fresh store reads."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tailor.artifacts import current_version, list_versions
from tailor.engine import Engine
from tailor.engine.train import build_models
from tailor.errors import (
    ConfigError,
    InvalidInputError,
    NotFittedError,
    UnknownItemError,
    UnsupportedError,
)
from tailor.ingest.synthetic import generate_shop
from tailor.models import Recommender
from tailor.rank.blend import Blend
from tailor.rank.explain import ModelRank
from tailor.settings import TrainSettings, load_settings
from tailor.types import UserBatch

MODELS = ["popular", "itemknn", "ease"]


def make_engine(root, models=MODELS, **train) -> Engine:
    settings = load_settings(
        store_url=f"sqlite:///{root}/tailor.db",
        artifacts_dir=root / "artifacts",
        train={"models": models, **train},
    )
    return Engine(settings)


def fill(engine: Engine, seed: int = 0):
    shop = generate_shop(120, 60, days=30, seed=seed)
    assert not engine.put_items(shop.items).rejected
    assert not engine.put_users(shop.users).rejected
    assert engine.ingest_events(shop.events).accepted == len(shop.events)
    return shop


@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shop")
    with make_engine(folder) as engine:
        fill(engine)
        engine.train()
    return folder


@pytest.fixture
def engine(trained_folder, tmp_path):
    """A trained engine on this test's own copy of the store and artifacts."""
    shutil.copytree(trained_folder, tmp_path, dirs_exist_ok=True)
    with make_engine(tmp_path) as engine:
        engine.load()
        yield engine


def active_user(engine: Engine) -> str:
    events = engine.store.events()
    return str(events["user_id"].value_counts().index[0])


def popular_fallback(engine: Engine, recs: list) -> bool:
    """Whether `recs` are the most popular items, each with a popularity reason."""
    popular = [r.item_id for r in engine.popular(len(recs))]
    codes = {r.explanation.code for r in recs}
    return [r.item_id for r in recs] == popular and codes <= {"popular_in", "popular", "new"}


def test_train_publishes_an_evaluated_version(engine):
    manifest = engine.manifest
    assert current_version(engine.settings.artifacts_dir) == manifest.version == engine.version
    assert set(manifest.metrics) == {*MODELS, "blend", "ranker"}
    assert manifest.ranker is not None and manifest.ranker["sources"] == MODELS
    assert manifest.models == MODELS
    assert all(0.0 <= m["recall_at_10"] <= 1.0 for m in manifest.metrics.values())
    assert manifest.evaluation["n_test_users"] > 0
    assert manifest.n_events > 0 and manifest.n_users > 0


def test_the_manifest_records_accuracy_by_segment_and_training_memory(engine):
    manifest = engine.manifest
    assert set(manifest.segment_metrics) == set(manifest.metrics)
    n_test_users = manifest.evaluation["n_test_users"]
    for by_segment in manifest.segment_metrics.values():
        history, popularity = by_segment["history"], by_segment["popularity"]
        assert set(history) <= {"1-4", "5-9", "10-19", "20+"} and history
        assert sum(b["n_users"] for b in history.values()) == n_test_users
        assert set(popularity) <= {"head", "torso", "tail"} and "head" in popularity
        for bucket in (*history.values(), *popularity.values()):
            assert 0.0 <= bucket["ndcg_at_10"] <= 1.0 and 0.0 <= bucket["recall_at_10"] <= 1.0
    assert manifest.peak_rss_mb is not None and manifest.peak_rss_mb > 50
    assert set(manifest.train_seconds) == set(manifest.models)


def test_recommendations_are_personal_and_fresh(engine):
    user = active_user(engine)
    first = engine.recommend(user, 5)
    assert len(first) == 5 and all(r.reason == r.explanation.text for r in first)
    assert any(r.explanation.anchor_item_id for r in first)
    assert {r.source for r in first} <= set(MODELS)
    top = first[0].item_id
    result = engine.ingest_events([{"user_id": user, "item_id": top, "kind": "purchase"}])
    assert result.accepted == 1
    second = engine.recommend(user, 5)
    assert top not in [r.item_id for r in second]  # seen now, without retraining
    assert engine.version == engine.manifest.version


def test_new_user_becomes_personal_after_one_event(engine):
    assert popular_fallback(engine, engine.recommend("newcomer", 5))
    item = engine.popular(1)[0].item_id
    engine.ingest_events([{"user_id": "newcomer", "item_id": item, "kind": "view"}])
    recs = engine.recommend("newcomer", 5)
    assert any(r.explanation.anchor_item_id == item for r in recs)
    assert item not in [r.item_id for r in recs]


def test_unknown_user_gets_the_popular_items_with_the_reason(engine):
    recs = engine.recommend("never-seen", 5)
    assert popular_fallback(engine, recs)
    engine.ingest_events([{"user_id": "only-new-items", "item_id": "brand-new", "kind": "view"}])
    assert popular_fallback(engine, engine.recommend("only-new-items", 3))


def test_category_filter_keeps_only_that_branch(engine):
    items = engine.store.items().set_index("item_id")
    user = active_user(engine)
    unseen = engine.recommend(user, 1)[0].item_id
    top_level = items.loc[unseen, "category"].split("/")[0]
    in_branch = set(items.index[items["category"].str.startswith(top_level + "/")])
    for recs in (
        engine.recommend(user, 5, category=top_level),
        engine.popular(5, category=top_level),
    ):
        assert recs and {r.item_id for r in recs} <= in_branch
    assert engine.popular(5, category="no-such-category") == []
    assert engine.popular(5, category=f" {top_level} / ") == engine.popular(5, category=top_level)
    partial_level = top_level[: len(top_level) // 2]
    assert engine.popular(5, category=partial_level) == []  # a path prefix, never a text prefix


def test_exclude_and_hidden_items_are_never_returned(engine):
    user = active_user(engine)
    before = [r.item_id for r in engine.recommend(user, 6)]
    after = [r.item_id for r in engine.recommend(user, 6, exclude=before[:2])]
    assert len(after) == 6 and not set(before[:2]) & set(after)
    row = engine.store.items([before[2]]).assign(hidden=True)
    assert engine.put_items(row).written == 1
    engine.delete_items([before[3]])
    shown = {r.item_id for r in engine.recommend(user, 20)} | {
        r.item_id for r in engine.popular(60)
    }
    assert before[2] not in shown and before[3] not in shown


def test_similar_items(engine):
    item = engine.popular(1)[0].item_id
    similar = engine.similar_items(item, 5)
    assert len(similar) == 5 and item not in [r.item_id for r in similar]
    assert all(r.reason == "similar" for r in similar)
    with pytest.raises(UnknownItemError):
        engine.similar_items("no-such-item", 5)


def test_k_is_checked(engine):
    with pytest.raises(InvalidInputError) as info:
        engine.recommend("u", 0)
    assert info.value.field == "k"
    with pytest.raises(InvalidInputError):
        engine.popular(engine.settings.service.max_k + 1)


def test_rejected_rows_are_listed_and_valid_rows_kept(engine):
    result = engine.ingest_events(
        [
            {"user_id": "a", "item_id": "x", "kind": "view", "event_id": "ok-1"},
            {"user_id": "a", "item_id": "x", "kind": "teleport", "event_id": "bad-1"},
            {"user_id": "a", "item_id": "y", "kind": "view", "event_id": "ok-1"},
        ]
    )
    assert (result.accepted, result.duplicates) == (1, 1)
    assert [(r.row, r.field) for r in result.rejected] == [(1, "kind")]
    assert "ok-1" in set(engine.store.events()["event_id"])
    logged = engine.store.write_log().iloc[-1]
    assert logged[["source", "origin", "accepted", "rejected", "duplicates"]].tolist() == [
        "events",
        "api",
        1,
        1,
        1,
    ]
    rejection = engine.store.recent_rejections(1).iloc[0]
    assert (rejection["row"], rejection["field"]) == (2, "kind")  # logged from 1, like files
    assert "teleport" in rejection["message"]


def test_untrained_engine_says_to_train(tmp_path):
    engine = make_engine(tmp_path)
    fill(engine)
    with pytest.raises(NotFittedError, match="tailor train"):
        engine.recommend("u", 5)
    assert engine.health()["model_version"] is None
    engine.close()


def test_a_running_engine_picks_up_a_new_version(engine):
    other = Engine(engine.settings)
    assert other.reload_if_changed() and other.version == engine.version
    old = other.version
    assert not other.reload_if_changed()
    engine.train()
    assert other.reload_if_changed()
    assert other.version == engine.version != old
    assert list_versions(engine.settings.artifacts_dir)[-1] == other.version
    other.close()


def test_deleted_user_gets_no_personal_answer(engine):
    user = active_user(engine)
    assert engine.delete_users([user]) >= 1
    assert popular_fallback(engine, engine.recommend(user, 3))
    assert pd.Series(engine.store.events()["user_id"] == user).sum() == 0


class Fixed(Recommender):
    """A test double: the same given scores for every user."""

    name = "fixed"

    def __init__(self, scores) -> None:
        super().__init__()
        self.scores_ = np.asarray(scores, dtype=np.float32)
        self.n_items_ = len(self.scores_)

    def _fit(self, data) -> None:
        raise AssertionError("never fitted")

    def _score(self, users) -> np.ndarray:
        return np.tile(self.scores_, (len(users), 1))


def test_blend_is_weighted_reciprocal_rank_fusion():
    blend = Blend({"a": Fixed([3, 2, 1, 0]), "b": Fixed([0, 1, 2, 3])}, {"b": 2.0}, rrf_k=0.0)
    users = UserBatch.of_histories([[]])
    recs = blend.recommend(users, 4)
    # a ranks 0,1,2,3 and b ranks 3,2,1,0: item 3 scores 1/4 + 2/1, item 0 1/1 + 2/4, ...
    assert recs.item_idx[0].tolist() == [3, 0, 2, 1]
    np.testing.assert_allclose(recs.scores[0], [2.25, 1.5, 1 / 3 + 1, 0.5 + 2 / 3], rtol=1e-6)
    assert recs.reasons == [["b", "a", "b", "b"]]
    masked = blend.recommend(UserBatch.of_histories([[0]]), 4, exclude=np.array([3]))
    assert masked.item_idx[0].tolist() == [2, 1, -1, -1]
    assert Blend({"a": Fixed([1, 2]), "b": Fixed([2, 1])}, {"a": 0.0}).members.keys() == {"b"}


def test_blended_answers_keep_each_members_rank_and_score():
    blend = Blend({"a": Fixed([3, 2, 1, 0]), "b": Fixed([0, 1, 2, 3])}, depth=2)
    blended = blend.blend(UserBatch.of_histories([[]]), 2)
    ranks = blended.member_ranks(0, [0, 3, 1])
    assert ranks[0] == {"a": ModelRank(1, 3.0)}  # b ranked item 0 last, outside its top 2
    assert ranks[1] == {"b": ModelRank(1, 3.0)}
    assert ranks[2] == {"a": ModelRank(2, 2.0)}


def test_bad_model_params_name_the_model(tmp_path):
    settings = load_settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        train={"models": ["als"], "model_params": {"als": {"factorz": 8}}},
    )
    with pytest.raises(ConfigError, match="model_params.als"):
        build_models(settings)
    assert (
        build_models(
            settings.model_copy(update={"train": TrainSettings(models=["als"], threads=1)})
        )["als"].params.num_threads
        == 1
    )


def test_loading_a_version_follows_catalogue_changes_made_elsewhere(engine):
    top = [r.item_id for r in engine.popular(3)]
    with Engine(engine.settings) as other:  # e.g. a file import while the service runs
        other.put_items(engine.store.items([top[0]]).assign(hidden=True))
        other.delete_items([top[1]])
    assert [r.item_id for r in engine.popular(3)] == top  # this process has not looked yet
    engine.load()
    shown = {r.item_id for r in engine.popular(60)}
    assert top[0] not in shown and top[1] not in shown and top[2] in shown


def test_batch_mode_answers_like_single_requests(engine):
    users = engine.store.events()["user_id"].drop_duplicates().head(12).tolist() + ["stranger"]
    batch = dict(engine.recommend_many(users, 5))
    assert list(batch) == users
    for user in users:
        single = engine.recommend(user, 5)
        assert [(r.item_id, r.reason, r.source) for r in batch[user]] == [
            (r.item_id, r.reason, r.source) for r in single
        ]
        assert [r.score for r in batch[user]] == pytest.approx([r.score for r in single], rel=1e-5)
    assert popular_fallback(engine, batch["stranger"])


def test_a_model_that_cannot_handle_the_data_is_skipped_with_its_reason(tmp_path):
    too_small = {"ease": {"max_items": 5}}
    with make_engine(tmp_path, ["popular", "ease"], model_params=too_small) as engine:
        fill(engine)
        manifest = engine.train()
        assert manifest.models == ["popular"] and "max_items" in manifest.skipped["ease"]
        assert set(manifest.metrics) == {"popular", "blend", "ranker"}
        assert manifest.ranker is not None and manifest.ranker["sources"] == ["popular"]
        assert engine.recommend(active_user(engine), 3)
    with (
        make_engine(tmp_path, ["ease"], model_params=too_small) as engine,
        pytest.raises(UnsupportedError, match="none of the configured models"),
    ):
        engine.train()


def test_a_user_who_viewed_an_item_is_told_so_by_its_title(engine):
    item = engine.popular(1)[0].item_id
    titles = engine.store.items([item])["attributes"].iloc[0]
    engine.ingest_events([{"user_id": "viewer", "item_id": item, "kind": "view"}])
    en = [r for r in engine.recommend("viewer", 5) if r.explanation.anchor_item_id == item]
    assert en and en[0].reason == f"because you viewed {titles['title_en']}"
    zh = [r for r in engine.recommend("viewer", 5, lang="zh") if r.explanation.anchor_item_id]
    assert zh and zh[0].reason == f"因为你浏览了 {titles['title_zh']}"
    assert {r.explanation.code for r in en} == {"viewed"}


def test_disliked_items_are_never_shown_again(engine):
    user = active_user(engine)
    disliked = engine.recommend(user, 5)[0].item_id
    engine.ingest_events([{"user_id": user, "item_id": disliked, "kind": "dislike"}])
    others = [i for i in engine.store.items()["item_id"] if i != disliked][:3]
    many = engine.settings.service.recent_events + 10  # push the dislike out of the recent window
    engine.ingest_events(
        [{"user_id": user, "item_id": others[n % 3], "kind": "view"} for n in range(many)]
    )
    everything = {"exclude_seen": False, "exclude_purchased": False, "in_stock_only": False}
    assert disliked not in [r.item_id for r in engine.recommend(user, 60, rules=everything)]


def test_purchased_and_seen_exclusions_are_rules(engine):
    user = active_user(engine)
    bought = engine.recommend(user, 5)[0].item_id
    engine.ingest_events([{"user_id": user, "item_id": bought, "kind": "purchase"}])
    assert bought not in [r.item_id for r in engine.recommend(user, 60)]
    keep_seen = {"exclude_purchased": False, "exclude_seen": False, "in_stock_only": False}
    assert bought in [r.item_id for r in engine.recommend(user, 60, rules=keep_seen)]
    assert bought not in [
        r.item_id
        for r in engine.recommend(user, 60, rules={**keep_seen, "exclude_purchased": True})
    ]


def test_catalogue_filters_hold_on_recommendations(engine):
    items = engine.store.items().set_index("item_id")
    user = active_user(engine)
    cheap = float(items["price"].median())
    has_cheap = set(items.loc[items["price"] <= cheap, "brand"])
    brand = next(
        b
        for b in (items.loc[r.item_id, "brand"] for r in engine.recommend(user, 10))
        if b in has_cheap
    )  # a brand the user is shown that has a cheap item
    recs = engine.recommend(user, 10, rules={"brands": (brand,), "price_max": cheap})
    assert recs and all(
        items.loc[r.item_id, "brand"] == brand and items.loc[r.item_id, "price"] <= cheap
        for r in recs
    )
    sold_out = items.index[items["stock"] == 0]
    shown = [r.item_id for r in engine.recommend(user, 60)]
    assert len(sold_out) and not set(sold_out) & set(shown)


def test_a_promotion_boosts_at_once_and_contributions_say_why(engine):
    user = active_user(engine)
    before = engine.recommend(user, 10)
    for r in before:
        assert r.source in r.contributions.models and r.contributions.rules == []
        assert all(m.rank >= 1 for m in r.contributions.models.values())
    last = before[-1].item_id
    engine.put_items(engine.store.items([last]).assign(tags=[["promoted"]]))
    after = engine.recommend(user, 10, rules={"promoted_boost": 100.0})
    assert after[0].item_id == last and after[0].contributions.rules == ["promoted_boost"]


def test_per_category_cap_and_mmr_through_the_engine(engine):
    items = engine.store.items().set_index("item_id")

    def most_in_one_top(recs) -> int:
        tops = pd.Series([items.loc[r.item_id, "category"].split("/")[0] for r in recs])
        return int(tops.value_counts().max())

    # The most active user whose uncapped list crowds one top category (the cap has work to do).
    busiest = engine.store.events()["user_id"].value_counts().index[:20]
    plain, user = next(
        (recs, str(u))
        for u in busiest
        if most_in_one_top(recs := engine.recommend(str(u), 12, rules={"diversity": "none"})) > 3
    )
    capped = engine.recommend(user, 12, rules={"diversity": "cap", "category_cap": 3})
    assert len(capped) == 12 and most_in_one_top(capped) <= 3
    diverse = engine.recommend(user, 12, rules={"diversity": "mmr", "mmr_lambda": 0.3})
    leaves = [len({items.loc[r.item_id, "category"] for r in recs}) for recs in (plain, diverse)]
    assert leaves[1] > leaves[0]  # category one-hots: this engine has no ALS factors
    with pytest.raises(InvalidInputError, match="category_cap"):
        engine.recommend(user, 8, rules={"category_cap": 0})


def test_the_ranker_orders_the_candidates_and_says_why(engine):
    ranker = engine._serving.two_stage
    assert ranker is not None and list(ranker.sources) == MODELS
    recs = engine.recommend(active_user(engine), 10)
    assert len(recs) == 10
    scores = [r.score for r in recs]
    assert max(scores) <= 1.0 and min(scores) > 0  # exp(ranker score - the user's best)
    similar = set(engine._serving.explainer.similar)
    for r in recs:
        assert r.source in r.contributions.models
        relating = {n: m for n, m in r.contributions.models.items() if n in similar}
        best = min((relating or r.contributions.models).items(), key=lambda nm: nm[1].rank)
        assert r.contributions.models[r.source].rank == best[1].rank  # item-item sources first
        assert len(r.contributions.features) == 3
        assert set(r.contributions.features) <= set(ranker.ranker.names)


def test_without_a_ranker_the_models_are_blended(tmp_path):
    with make_engine(tmp_path, ranker={"enabled": False}) as engine:
        fill(engine)
        manifest = engine.train(evaluate=False)
        assert manifest.ranker is None and engine._serving.two_stage is None
        recs = engine.recommend(active_user(engine), 5)
        assert len(recs) == 5 and all(not r.contributions.features for r in recs)
        assert all(r.contributions.models for r in recs)


def test_a_ranker_that_cannot_be_trained_leaves_the_blend_with_its_reason(tmp_path):
    with make_engine(tmp_path, ranker={"max_users": 1}) as engine:
        fill(engine)
        manifest = engine.train(evaluate=False)
        assert manifest.ranker is None and "fewer than 2 users" in manifest.skipped["ranker"]
        assert engine.recommend(active_user(engine), 5)


def test_training_reuses_the_evaluations_models_for_the_ranker(tmp_path):
    steps: list[str] = []
    with make_engine(tmp_path) as engine:
        fill(engine)
        engine.train(lambda step, done, total: steps.append(step))
    fits = [s for s in steps if s.startswith(("evaluating", "fitting", "ranker:"))]
    assert [s for s in fits if "sources before its cutoff" in s] == [
        f"evaluating sources before its cutoff: {name}" for name in MODELS
    ]  # the final ranker's cutoff is the evaluation's: its models are fitted once
    assert "ranker: the ranker" in fits


def test_the_rankers_features_follow_catalogue_writes(engine):
    serving = engine._serving
    row = engine.store.items().iloc[0].to_dict()
    idx = serving.artifact.item_ids.index(row["item_id"])
    builder = serving.features
    engine.put_items([{**row, "price": 12345.0}])
    assert serving.features is builder  # same categories: nothing to recode
    assert serving.features.items.price[idx] == 12345.0  # prices are read live
    engine.put_items([{**row, "category": "新类 Brand-new/子类 Sub"}])
    assert serving.features is not builder
    leaf = serving.features.items.category
    assert leaf[idx] >= 0 and (leaf == leaf[idx]).sum() == 1
