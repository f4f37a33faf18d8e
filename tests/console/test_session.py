"""The session cookie: only a live admin key's own signature, before its expiry, lets a page in."""

from __future__ import annotations

import time

import pytest

from tailor.console.session import SESSION_SECONDS, session_key, session_token
from tailor.service.auth import create_key, revoke_key
from tailor.settings import Role
from tailor.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/keys.db") as store:
        yield store


def test_a_fresh_token_names_its_key(store):
    _, key = create_key(store, Role.admin)
    assert session_key(store, session_token(key)) == key


def test_tokens_hold_no_key_and_expire(store):
    raw, key = create_key(store, Role.admin)
    now = time.time()
    token = session_token(key, now)
    assert raw.split("_")[-1] not in token and key.digest not in token
    assert session_key(store, token, now + SESSION_SECONDS - 1) == key
    assert session_key(store, token, now + SESSION_SECONDS + 1) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # signature changed
        lambda t: t.replace(t.split(".")[1], str(int(t.split(".")[1]) + 3600)),  # expiry moved
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: "abc.def.ghi",
    ],
)
def test_a_tampered_token_is_refused(store, tamper):
    _, key = create_key(store, Role.admin)
    assert session_key(store, tamper(session_token(key))) is None


def test_a_token_of_another_key_does_not_transfer(store):
    _, first = create_key(store, Role.admin)
    _, second = create_key(store, Role.admin)
    body, _, signature = session_token(first).rpartition(".")
    forged = f"{second.key_id}.{body.split('.')[1]}.{signature}"
    assert session_key(store, forged) is None


def test_revoking_the_key_ends_its_sessions(store):
    _, key = create_key(store, Role.admin)
    token = session_token(key)
    revoke_key(store, key.key_id)
    assert session_key(store, token) is None


def test_only_admin_keys_hold_sessions(store):
    _, key = create_key(store, Role.read)
    assert session_key(store, session_token(key)) is None
