"""`tailor risk users` lists the planted attackers, as a table or as JSON lines."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tailor.cli import app
from tailor.engine import Engine
from tailor.settings import load_settings

runner = CliRunner()


@pytest.fixture
def stored_shop(attacked, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_STORE_URL", f"sqlite:///{tmp_path}/tailor.db")
    with Engine(load_settings()) as engine:
        engine.put_users(attacked.users)
        engine.ingest_events(attacked.events)
    return attacked


def test_risk_users_as_json_and_as_a_table(stored_shop):
    result = runner.invoke(app, ["risk", "users", "--json", "--limit", "100"])
    assert result.exit_code == 0, result.output
    listed = [json.loads(line) for line in result.output.splitlines()]
    assert {u["user_id"] for u in listed} == set(stored_shop.labels)
    assert all(u["score"] >= 0.5 and u["reasons"] for u in listed)
    table = runner.invoke(app, ["risk", "users", "--min-score", "0.8", "--lang", "zh"])
    assert table.exit_code == 0 and "attack-" in table.output and "规律" in table.output


def test_a_bad_min_score_is_named(stored_shop):
    result = runner.invoke(app, ["risk", "users", "--min-score", "2"])
    assert result.exit_code == 1 and "--min-score" in result.output
