"""Ray Data reads the events as the single-machine path does: the same Dataset, to the bit."""

from __future__ import annotations

import pytest

from tailor.distributed import data as ray_data
from tailor.engine import Engine
from tailor.engine.train import load_dataset
from tailor.settings import load_settings

pytestmark = pytest.mark.ray


def test_store_and_parquet_export_give_the_single_machine_dataset(
    local_ray, trained_shop, tmp_path
) -> None:
    with Engine(trained_shop.settings) as engine:
        expected, listed = load_dataset(engine.store, trained_shop.settings)
        data, ray_listed = ray_data.load_dataset(engine.store, trained_shop.settings)
        export = tmp_path / "events.parquet"
        engine.store.events().to_parquet(export)
        exported, _ = ray_data.load_dataset(engine.store, trained_shop.settings, export)
    assert data.fingerprint() == expected.fingerprint() == exported.fingerprint()
    assert data.n_events == expected.n_events > 1000
    assert ray_listed.tolist() == listed.tolist()


@pytest.mark.postgres
def test_reads_postgresql_in_blocks(local_ray, trained_shop, empty_postgres_url) -> None:
    settings = load_settings(trained_shop.config, store_url=empty_postgres_url)
    with Engine(trained_shop.settings) as source, Engine(settings) as engine:
        engine.put_items(source.store.items())
        engine.ingest_events(source.store.events())
        expected, _ = load_dataset(engine.store, settings)
        data, _ = ray_data.load_dataset(engine.store, settings)
    assert data.fingerprint() == expected.fingerprint()


def test_a_missing_parquet_export_is_named(local_ray, trained_shop, tmp_path) -> None:
    from tailor.errors import InvalidInputError

    with Engine(trained_shop.settings) as engine:
        with pytest.raises(InvalidInputError, match="no Parquet"):
            ray_data.load_dataset(engine.store, trained_shop.settings, tmp_path / "none.parquet")
