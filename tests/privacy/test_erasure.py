"""DELETE a user: no trace in any table, artifact file or cache, now and after the next training."""

from __future__ import annotations

import json
import time

from privacy_setup import ERASED_USER

from tailor.artifacts import USERS_FILE, current_version, list_versions, load_artifact
from tailor.engine import Engine
from tailor.privacy import audit_erasure, erase_user, user_caches
from tailor.risk import RiskBook
from tailor.store.base import Feedback, LoggedRejection, WriteRecord


def leave_traces(engine: Engine) -> RiskBook:
    """Everything the service keeps of a user: served lists (stored and pending) with feedback,
    a logged rejection naming them, a cached profile, a risk score, the served model's id map."""
    now = time.time_ns() // 1_000_000
    stored = engine.scenarios.home(ERASED_USER, 5)
    engine.scenarios.log.flush()
    engine.store.add_feedback([Feedback(stored.request_id, "click", now, stored.items[0].item_id)])
    engine.scenarios.home(ERASED_USER, 3)  # left pending in the served-list log
    rejection = LoggedRejection(1, "user_id", f"user {ERASED_USER} sent twice")
    named = WriteRecord(now, "events", f"{ERASED_USER}.csv", 0, 1, 0, [rejection])
    engine.store.add_write_record(named)
    engine.store.add_write_record(WriteRecord(now, "events", "api", 5, 1, 0, []))
    engine.profiles.profile(ERASED_USER)
    risk = RiskBook(engine.settings.risk)
    risk.user(engine.store, ERASED_USER)
    return risk


def check(engine: Engine, risk: RiskBook):
    caches = user_caches(engine, {"risk_scores": risk})
    return audit_erasure(engine.store, engine.settings.artifacts_dir, ERASED_USER, caches=caches)


def test_erasure_leaves_no_trace_now_nor_after_the_next_training(shop_engine: Engine) -> None:
    engine = shop_engine
    engine.train(evaluate=False)
    first_version = engine.version
    risk = leave_traces(engine)
    before = check(engine, risk)
    assert not before.passed
    assert {"events", "users", "served", "rejections", "write_log"} <= set(
        before.tables_with_traces
    )
    assert f"{first_version}/{USERS_FILE}" in before.files_with_traces
    assert set(before.caches_with_traces) == {
        "profiles",
        "served_lists",
        "model_user_ids",
        "risk_scores",
    }

    receipt = erase_user(engine, ERASED_USER, actor="tests", caches={"risk_scores": risk})

    assert receipt.found
    assert receipt.tables == {
        "events": 11, "users": 1, "served": 1, "feedback": 1, "rejections": 1, "write_log": 1,
    }  # fmt: skip
    assert receipt.caches == {
        "profiles": 1, "served_lists": 1, "model_user_ids": 1, "risk_scores": 1,
        "campaign_snapshot": 0,  # this shop's history is older than the campaigns' lookback
    }  # fmt: skip
    assert receipt.artifact_versions == [f"{first_version}-erased1"]
    after = check(engine, risk)
    assert after.passed, after
    assert after.tables_searched >= 9 and after.files_searched > 5 and after.caches_searched == 5
    assert engine.store.write_log()["origin"].tolist() == ["api"]  # what does not name them stays

    engine.reload_if_changed()
    assert engine.version == f"{first_version}-erased1"
    assert engine.recommend(ERASED_USER, 3)  # a stranger now: popular items
    engine.train(evaluate=False)
    assert check(engine, risk).passed


def test_the_scrubbed_version_keeps_every_other_user_at_their_index(shop_engine: Engine) -> None:
    engine = shop_engine
    engine.train(evaluate=False)
    root = engine.settings.artifacts_dir
    before = load_artifact(root).user_ids.to_list()

    erase_user(engine, ERASED_USER, actor="tests")

    (version,) = list_versions(root)
    assert version == current_version(root)
    after = load_artifact(root, version).user_ids
    assert [i for i in after.to_list() if i] == [i for i in before if i != ERASED_USER]
    assert after.to_list().index("") == before.index(ERASED_USER)
    assert all(after.get(i) == n for n, i in enumerate(before) if i != ERASED_USER)
    assert ERASED_USER not in json.loads((root / version / USERS_FILE).read_text("utf-8"))


def test_erasing_an_unknown_user_finds_nothing_and_is_audited(shop_engine: Engine) -> None:
    receipt = erase_user(shop_engine, "nobody-at-all", actor="key123")
    assert not receipt.found and receipt.tables == {} and receipt.artifact_versions == []
    (entry,) = shop_engine.store.audit_entries()
    assert (entry.actor, entry.action, entry.outcome) == ("key123", "erase_user", "ok")
    assert entry.target == receipt.user and "nobody" not in entry.target
