"""API keys in the store: stored, listed, revoked, on both backends."""

from __future__ import annotations

import pytest

from tailor.errors import InvalidInputError
from tailor.store import Store, StoredKey, open_store


def key(key_id: str, created_at: int, role: str = "read") -> StoredKey:
    return StoredKey(key_id, f"name of {key_id}", role, "00" * 16, "ab" * 32, created_at)


def test_keys_are_added_read_listed_and_revoked(store: Store):
    assert store.api_keys() == [] and store.api_key("k1") is None
    store.add_api_key(key("k2", 2_000, "admin"))
    store.add_api_key(key("k1", 1_000))
    assert store.api_key("k2") == key("k2", 2_000, "admin")
    assert [k.key_id for k in store.api_keys()] == ["k1", "k2"]
    assert store.revoke_api_key("k1", 5_000) is True
    assert store.revoke_api_key("k1", 6_000) is False  # already revoked: the first time stays
    assert store.revoke_api_key("nope", 6_000) is False
    assert store.api_key("k1").revoked_at == 5_000 and store.api_key("k2").revoked_at is None
    assert store.counts() == {"events": 0, "items": 0, "users": 0}


def test_a_taken_key_id_is_refused(store: Store):
    store.add_api_key(key("k1", 1_000))
    with pytest.raises(InvalidInputError, match="taken"):
        store.add_api_key(key("k1", 2_000))
    assert len(store.api_keys()) == 1


def test_keys_survive_reopening(store_url: str):
    with open_store(store_url) as store:
        store.add_api_key(key("k1", 1_000))
    with open_store(store_url) as store:
        assert store.api_key("k1") == key("k1", 1_000)
