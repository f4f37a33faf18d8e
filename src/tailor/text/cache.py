"""An on-disk cache of text vectors, so re-encoding a catalogue costs only its new or changed texts.

Layout: `<cache_dir>/<encoder name>/vectors.npy` (n, dim) float32 and `keys.txt`, one key per line,
row i of one belonging to line i of the other. A key is a hash of (encoder name, text). Files are
replaced atomically; concurrent writers may drop each other's new rows (it is only a cache).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tailor.text import TextEncoder


def text_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()[:32]


class CachedEncoder:
    """Wraps a `TextEncoder`; only texts never seen before reach it."""

    def __init__(self, inner: TextEncoder, cache_dir: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.directory = Path(cache_dir) / inner.name
        self.n_encoded = 0  # texts passed to the inner encoder so far

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        keys = [text_key(self.name, t) for t in texts]
        stored_keys, stored = self._read()
        index = {k: i for i, k in enumerate(stored_keys)}
        new = {k: t for k, t in zip(keys, texts) if k not in index}
        if new:
            fresh = self.inner.encode(list(new.values()), batch_size=batch_size, progress=progress)
            self.n_encoded += len(new)
            index.update((k, len(stored_keys) + i) for i, k in enumerate(new))
            stored_keys = stored_keys + list(new)
            stored = np.concatenate([stored, fresh.astype(np.float32)])
            self._write(stored_keys, stored)
        rows = np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys))
        return np.ascontiguousarray(stored[rows])

    def _read(self) -> tuple[list[str], np.ndarray]:
        keys_file, vectors_file = self.directory / "keys.txt", self.directory / "vectors.npy"
        if not (keys_file.exists() and vectors_file.exists()):
            return [], np.zeros((0, self.dim), dtype=np.float32)
        keys = keys_file.read_text(encoding="ascii").split()
        vectors = np.load(vectors_file, allow_pickle=False)
        n = min(len(keys), len(vectors))  # a crash between the two writes leaves extra rows
        return keys[:n], vectors[:n]

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f"vectors.{os.getpid()}.tmp.npy"
        np.save(tmp, vectors)
        os.replace(tmp, self.directory / "vectors.npy")
        tmp_keys = self.directory / f"keys.{os.getpid()}.tmp"
        tmp_keys.write_text("\n".join(keys) + "\n", encoding="ascii")
        os.replace(tmp_keys, self.directory / "keys.txt")
