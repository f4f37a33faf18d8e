"""The assistant's remembered text vectors stay within their bound and are still right."""

from __future__ import annotations

import numpy as np

from tailor.assistant import ask


def test_remembered_vectors_are_bounded_least_recently_used_first(assistant, monkeypatch):
    monkeypatch.setattr(ask, "MAX_REMEMBERED_VECTORS", 5)
    texts = [f"问题 {n} question" for n in range(8)]
    first = assistant.encode(texts)
    assert len(assistant._vectors) == 5 and list(assistant._vectors) == texts[3:]
    again = assistant.encode(texts[:2])  # forgotten ones are encoded again, to the same vectors
    assert np.allclose(again, first[:2], atol=1e-5)
    assert list(assistant._vectors) == texts[5:] + texts[:2]
