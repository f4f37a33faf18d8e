"""Versioned artifacts: written whole, switched atomically, refused when torn, pruned."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from tailor import artifacts
from tailor.artifacts import (
    CURRENT_FILE,
    MANIFEST_FILE,
    STALE_TEMP_SECONDS,
    TEMP_PREFIX,
    catalogue_of,
    current_version,
    list_versions,
    load_artifact,
    prune,
    read_manifest,
    switch_current,
    write_artifact,
)
from tailor.data.dataset import Dataset
from tailor.errors import ArtifactError
from tailor.models import model_class
from tailor.types import UserBatch


@pytest.fixture
def data() -> Dataset:
    events = pd.DataFrame(
        {
            "user_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u3"],
            "item_id": ["a", "b", "a", "c", "b", "c", "d"],
            "kind": ["view", "purchase", "view", "cart", "view", "view", "purchase"],
            "ts": np.arange(7, dtype=np.int64) * 1000,
        }
    )
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "title": ["Apple", "Banana", "Cherry", "Date", "Elderberry"],
            "category": ["fruit/red", "fruit/yellow", "fruit/red", "fruit/brown", "fruit/black"],
            "price": [1.0, 0.5, 3.0, None, 2.0],
            "stock": [10, 0, 5, 1, 2],
            "hidden": [False, False, False, False, False],
        }
    )
    return Dataset.from_events(events, items)


def _write(root, data, keep=3):
    models = {
        "popular": model_class("popular")().fit(data),
        "itemknn": model_class("itemknn")().fit(data),
    }
    manifest = write_artifact(
        root,
        data,
        models,
        metrics={"popular": {"recall_at_10": 0.5}},
        blend={"popular": 1.0, "itemknn": 2.0},
        evaluation={"name": "test"},
        train_seconds={"popular": 0.0},
        settings={"ingest": {}},
        keep=keep,
    )
    return manifest, models


def test_written_artifact_loads_back_identical(tmp_path, data):
    manifest, models = _write(tmp_path, data)
    assert current_version(tmp_path) == manifest.version
    loaded = load_artifact(tmp_path)
    assert loaded.version == manifest.version
    assert (
        loaded.manifest.n_users == 3
        and loaded.manifest.n_items == 5
        and loaded.manifest.n_events == 7
    )
    assert loaded.manifest.data_fingerprint == data.fingerprint()
    assert loaded.manifest.blend == {"popular": 1.0, "itemknn": 2.0}
    assert loaded.user_ids == data.user_ids and loaded.item_ids == data.item_ids
    catalogue = loaded.catalogue.set_index("item_id")
    assert catalogue.loc["b", "stock"] == 0 and catalogue.loc["c", "category"] == "fruit/red"
    assert catalogue.loc["a", "popularity"] == 2 and catalogue.loc["e", "popularity"] == 0
    batch = UserBatch.of_histories([[0], [1, 2]])
    for name, model in models.items():
        expected = model.recommend(batch, 3)
        got = loaded.models[name].recommend(batch, 3)
        np.testing.assert_array_equal(got.item_idx, expected.item_idx)
        np.testing.assert_allclose(got.scores, expected.scores)


def test_no_artifact_says_to_train(tmp_path):
    with pytest.raises(ArtifactError, match="tailor train"):
        load_artifact(tmp_path)
    assert current_version(tmp_path) is None


def test_torn_artifact_is_refused(tmp_path, data):
    manifest, _ = _write(tmp_path, data)
    arrays = tmp_path / manifest.version / "models" / "itemknn" / "arrays.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10])
    with pytest.raises(ArtifactError, match="torn"):
        load_artifact(tmp_path)
    (tmp_path / manifest.version / "items.json").unlink()
    with pytest.raises(ArtifactError, match="items.json"):
        read_manifest(tmp_path / manifest.version)


def test_a_version_deleted_while_it_is_verified_is_refused_not_raised(tmp_path, data, monkeypatch):
    manifest, _ = _write(tmp_path, data)

    def vanished(file):
        raise FileNotFoundError(2, "No such file or directory", str(file))

    monkeypatch.setattr(artifacts, "_sha256", vanished)
    with pytest.raises(ArtifactError, match="could not be read"):
        read_manifest(tmp_path / manifest.version, verify_checksums=True)


def test_directory_without_manifest_is_neither_listed_nor_switchable(tmp_path, data):
    manifest, _ = _write(tmp_path, data)
    half = tmp_path / "20990101T000000000Z-deadbeef"
    half.mkdir()
    (half / "users.json").write_text("[]")
    assert list_versions(tmp_path) == [manifest.version]
    with pytest.raises(ArtifactError, match=MANIFEST_FILE):
        switch_current(tmp_path, half.name)
    assert current_version(tmp_path) == manifest.version
    with pytest.raises(ArtifactError, match="missing"):
        load_artifact(tmp_path, half.name)


def test_each_training_switches_current_and_old_versions_are_pruned(tmp_path, data):
    versions = [_write(tmp_path, data, keep=2)[0].version for _ in range(4)]
    assert versions == sorted(versions) and len(set(versions)) == 4
    assert list_versions(tmp_path) == versions[-2:]
    assert current_version(tmp_path) == versions[-1]
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_prune_keeps_the_current_version_even_when_old(tmp_path, data):
    versions = [_write(tmp_path, data, keep=5)[0].version for _ in range(3)]
    switch_current(tmp_path, versions[0])
    assert (tmp_path / CURRENT_FILE).read_text().strip() == versions[0]
    assert prune(tmp_path, keep=1) == [versions[1]]
    assert list_versions(tmp_path) == [versions[0], versions[2]]
    assert load_artifact(tmp_path).version == versions[0]


def test_failed_write_leaves_nothing_behind(tmp_path, data):
    _write(tmp_path, data)
    before = sorted(p.name for p in tmp_path.iterdir())
    unfitted = {"popular": model_class("popular")()}
    with pytest.raises(Exception, match="not fitted"):
        write_artifact(
            tmp_path,
            data,
            unfitted,
            metrics={},
            blend={},
            evaluation={},
            train_seconds={},
            settings={},
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_items_missing_from_the_catalogue_are_marked_unlisted(data):
    catalogue = catalogue_of(data, listed=["a", "b", "c", "e", "not-in-data"]).set_index("item_id")
    assert catalogue["listed"].to_dict() == {"a": True, "b": True, "c": True, "d": False, "e": True}
    assert catalogue_of(data)["listed"].all()


def test_prune_removes_stale_temporary_directories_only(tmp_path, data):
    old, fresh = tmp_path / f"{TEMP_PREFIX}crashed", tmp_path / f"{TEMP_PREFIX}writing"
    old.mkdir()
    fresh.mkdir()
    os.utime(old, (time.time() - 2 * STALE_TEMP_SECONDS,) * 2)
    _write(tmp_path, data)
    assert not old.exists() and fresh.exists()


def test_a_manifest_written_before_segments_and_memory_were_recorded_still_loads(tmp_path, data):
    manifest, _ = _write(tmp_path, data)
    path = tmp_path / manifest.version / MANIFEST_FILE
    old = json.loads(path.read_text(encoding="utf-8"))
    del old["segment_metrics"], old["peak_rss_mb"]
    path.write_text(json.dumps(old), encoding="utf-8")
    loaded = read_manifest(tmp_path / manifest.version)
    assert loaded.segment_metrics == {} and loaded.peak_rss_mb is None
    assert loaded.metrics == manifest.metrics
