"""Catalogue text encoding on Ray Data: `tailor.text` encoders over blocks of item texts.

Each block holds a multiple of the encoder's batch size and starts on a batch boundary, so the
encoder sees exactly the batches it sees on one machine: the vectors are identical.
`fill_cache` stores them in a `tailor.text` disk cache, where the models' own encoders (the
content model, the Transformer's text side) find them instead of encoding again.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tailor.distributed import cpu_count, require_ray
from tailor.text import encoder
from tailor.text.cache import CachedEncoder

ENCODER_BATCH = 64  # the batch size `TextEncoder.encode` uses by default


class _EncodeBlock:
    """A Ray Data actor: loads the encoder once, then encodes the blocks it is given."""

    def __init__(self, name: str, threads: int) -> None:
        self.encoder = encoder(name, threads=threads)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        vectors = self.encoder.encode(batch["text"].tolist(), batch_size=ENCODER_BATCH)
        return pd.DataFrame({"row": batch["row"], "vector": list(vectors)})


def encode_texts(
    texts: Sequence[str], name: str, *, threads: int = 1, workers: int | None = None
) -> np.ndarray:
    """(len(texts), dim) float32 vectors of `texts` by encoder `name`, encoded on the cluster."""
    ray = require_ray()
    workers = workers or cpu_count()
    per_block = ENCODER_BATCH * max(1, -(-len(texts) // (ENCODER_BATCH * workers)))
    frame = pd.DataFrame({"row": np.arange(len(texts)), "text": list(texts)})
    blocks = [frame.iloc[start : start + per_block] for start in range(0, len(frame), per_block)]
    encoded = ray.data.from_pandas(blocks).map_batches(
        _EncodeBlock,
        fn_constructor_args=(name, threads),
        batch_size=per_block,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=min(workers, len(blocks))),
        num_cpus=threads,
    ).to_pandas()
    encoded = encoded.sort_values("row")
    return np.stack(encoded["vector"].to_numpy()).astype(np.float32, copy=False)


class _Precomputed:
    """A `TextEncoder` answering from vectors encoded elsewhere."""

    def __init__(self, name: str, texts: Sequence[str], vectors: np.ndarray) -> None:
        self.name, self.dim = name, vectors.shape[1]
        self._rows = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        return self._vectors[[self._rows[text] for text in texts]]


def fill_cache(texts: Sequence[str], name: str, cache_dir: str | Path, *, threads: int = 1) -> None:
    """Encode `texts` on the cluster and store their vectors in the disk cache at `cache_dir`.

    Like `CachedEncoder`, it encodes each distinct text once, in order of first appearance, so
    the cache holds the vectors a one-machine cached encoder would have stored."""
    distinct = list(dict.fromkeys(texts))
    vectors = encode_texts(distinct, name, threads=threads)
    CachedEncoder(_Precomputed(name, distinct, vectors), cache_dir).encode(distinct)
