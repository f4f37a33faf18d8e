"""POST /v1/push/plans, `tailor push plan` and `tailor report push` over a trained small shop."""

from __future__ import annotations

import csv
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tailor.cli import app as cli_app
from tailor.engine import Engine
from tailor.profiles.stages import SEGMENTS
from tailor.propensity.service import train_propensity
from tailor.service import create_app


@pytest.fixture(scope="module")
def trained(tmp_path_factory, stored_small_shop):
    folder = tmp_path_factory.mktemp("push")
    config, settings, shop = stored_small_shop(folder, seed=6, extra_config="[push]\nmax_k = 5\n")
    with Engine(settings) as engine:
        train_propensity(engine.store, settings)
    return config, settings, int(shop.events["ts"].max()) + 1


def test_plan_route_records_and_then_respects_the_caps(trained):
    _, settings, now = trained
    body = {
        "channel": "app",
        "k": 2,
        "per_day": 1,
        "per_week": 1,
        "at": now,
        "lang": "zh",
        "audience": "segment",
        "segment": "stage in (new, active)",
        "record": True,
    }
    with TestClient(create_app(settings)) as client:
        first = client.post("/v1/push/plans", json=body)
        assert first.status_code == 200, first.text
        plans = first.json()["plans"]
        assert plans and all(1 <= len(p["items"]) <= 2 for p in plans)
        assert all(p["items"][0]["reason"].endswith("）") for p in plans)
        assert {p["segment"] for p in plans} <= set(SEGMENTS)
        again = client.post("/v1/push/plans", json=body).json()
        assert again["users"] == 0  # one push a week each, and it is in the log now
        listed = client.post(
            "/v1/push/plans",
            json={
                **body,
                "audience": "list",
                "record": False,
                "users": [plans[0]["user_id"]],
                "per_week": 5,
                "per_day": 5,
                "segment": None,
            },
        )
        assert listed.status_code == 200
        pushed = {i["item_id"] for i in plans[0]["items"]}
        for plan in listed.json()["plans"]:  # recently pushed items are left out
            assert not pushed & {i["item_id"] for i in plan["items"]}


@pytest.mark.parametrize(
    "change, field",
    [
        ({"audience": "segment", "segment": "height > 2"}, "segment"),
        ({"per_day": -1}, "per_day"),
        ({"per_week": -2}, "per_week"),
        ({"k": 6}, "k"),
        ({"k": 0}, "k"),
        ({"audience": "list"}, "users"),
        ({"quiet_start": 24}, "quiet_start"),
        ({"min_probability": 1.5}, "min_probability"),
    ],
)
def test_bad_plan_requests_name_the_field(trained, change, field):
    _, settings, now = trained
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/push/plans", json={"channel": "app", "at": now, **change})
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text


def test_cli_plan_to_csv_and_jsonl_and_report(trained, tmp_path):
    config, settings, now = trained
    runner = CliRunner()
    out = tmp_path / "plan.csv"
    result = runner.invoke(
        cli_app,
        [
            "-c",
            str(config),
            "push",
            "plan",
            "--channel",
            "sms",
            "--out",
            str(out),
            "--at",
            str(now),
            "--k",
            "2",
            "--per-day",
            "3",
            "--per-week",
            "9",
            "--quiet",
            "23-7",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows and {"user_id", "send_at", "item_id", "reason"} <= rows[0].keys()
    jsonl = tmp_path / "plan.jsonl"
    result = runner.invoke(
        cli_app,
        [
            "-c",
            str(config),
            "push",
            "plan",
            "--channel",
            "sms",
            "--out",
            str(jsonl),
            "--at",
            str(now),
            "--per-week",
            "9",
            "--per-day",
            "3",
            "--record",
        ],
    )
    assert result.exit_code == 0, result.output
    planned = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    user, item = planned[0]["user_id"], planned[0]["items"][0]["item_id"]
    with Engine(settings) as engine:
        engine.ingest_events(
            [
                {
                    "event_id": "o1",
                    "user_id": user,
                    "item_id": item,
                    "kind": "push_opened",
                    "ts": planned[0]["send_at"] + 1000,
                    "channel": "sms",
                },
                {
                    "event_id": "b1",
                    "user_id": user,
                    "item_id": item,
                    "kind": "purchase",
                    "ts": planned[0]["send_at"] + 5000,
                    "channel": "app",
                },
            ]
        )
    report = runner.invoke(cli_app, ["-c", str(config), "report", "push", "--json"])
    assert report.exit_code == 0, report.output
    sms = next(r for r in json.loads(report.output) if r["channel"] == "sms")
    assert sms["pushes"] == len(planned) and sms["opened"] == 1 and sms["purchased_items"] >= 1
    bad = runner.invoke(
        cli_app,
        [
            "-c",
            str(config),
            "push",
            "plan",
            "--channel",
            "sms",
            "--out",
            str(tmp_path / "plan.txt"),
        ],
    )
    assert bad.exit_code == 1 and "--out" in bad.output
