"""`tailor report online` end to end over a store holding served lists and feedback."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tailor.cli import app
from tailor.store import open_store
from tailor.store.base import Feedback, ServedList

DAY_MS = 86_400_000
NOV_1 = 1_793_491_200_000  # 2026-11-01T00:00:00Z


def test_report_online_prints_the_table_and_writes_json(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_STORE_URL", f"sqlite:///{tmp_path}/tailor.db")
    with open_store(f"sqlite:///{tmp_path}/tailor.db") as store:
        variants = ["cap", "mmr", "cap", "mmr"]
        lists = [
            ServedList(f"r{n}", "home", ["a", "b"], NOV_1 + n, "u", "div", variant)
            for n, variant in enumerate(variants)
        ]
        lists.append(ServedList("old", "home", ["a"], NOV_1 - DAY_MS))
        store.add_served(lists)
        store.add_feedback(
            [Feedback(f"r{n}", "impression", NOV_1 + 9, None) for n in range(4)]
            + [Feedback("r1", "click", NOV_1 + 10, "a"), Feedback("old", "click", NOV_1, "a")]
        )
    runner = CliRunner()
    shown = runner.invoke(app, ["report", "online", "--since", "2026-11-01", "--json", "r.json"])
    assert shown.exit_code == 0, shown.output
    assert "CTR" in shown.output and "mmr" in shown.output and "12.50%" in shown.output
    rows = json.loads((tmp_path / "r.json").read_text())["rows"]
    assert [(r["variant"], r["served"], r["shown"], r["clicks"]) for r in rows] == [
        (None, 4, 8, 1),
        ("cap", 2, 4, 0),
        ("mmr", 2, 4, 1),
    ]
    assert rows[2]["ctr"]["value"] == 0.25 and rows[2]["ctr"]["low"] > 0
    printed = runner.invoke(app, ["report", "online", "--json", "-"])
    assert json.loads(printed.output)["rows"][0]["served"] == 5  # the day before counts too
    bad = runner.invoke(app, ["report", "online", "--since", "last week"])
    assert bad.exit_code != 0 and "ISO date" in bad.output
