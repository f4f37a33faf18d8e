"""The forecast routes and `tailor forecast`, on a stored synthetic shop."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tailor.cli import app as cli
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.service import create_app
from tailor.settings import load_settings
from tailor.types import CATEGORY_SEPARATOR


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    config = folder / "tailor.toml"
    config.write_text(
        f'store_url = "sqlite:///{folder}/t.db"\nartifacts_dir = "{folder}/a"\n'
        "[service]\nauth = false\n",
        encoding="utf-8",
    )
    shop = generate_shop(400, 80, days=35, seed=4)
    sold = shop.events.loc[shop.events["kind"] == "purchase", "item_id"].value_counts()
    best_seller = str(sold.index[0])
    shop.items.loc[shop.items["item_id"] == best_seller, ["stock", "hidden"]] = (1, False)
    settings = load_settings(config)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.ingest_events(shop.events)
    return config, settings, shop, best_seller


@pytest.fixture(scope="module")
def client(stored):
    with TestClient(create_app(stored[1])) as client:
        yield client


def test_item_forecast_has_one_step_per_day_with_an_interval(client, stored):
    best_seller = stored[3]
    answer = client.get(f"/v1/items/{best_seller}/forecast", params={"days": 10})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["item_id"] == best_seller and body["days"] == 10 and len(body["steps"]) == 10
    assert body["method"] in {"lightgbm", "croston", "seasonal_naive", "moving_average"}
    assert all(s["low"] <= s["point"] <= s["high"] for s in body["steps"])
    assert [s["date"] for s in body["steps"]][:2] == ["2026-02-05", "2026-02-06"]  # after day 35
    assert client.get(f"/v1/items/{best_seller}/forecast").json()["days"] == 14


def test_an_item_without_stock_is_forecast_with_stock_null(client):
    assert client.put("/v1/items", json={"item_id": "no-stock", "title": "x"}).status_code == 200
    answer = client.get("/v1/items/no-stock/forecast")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["stock"] is None and body["method"] == "no_history"
    assert {s["point"] for s in body["steps"]} == {0.0}


@pytest.mark.parametrize("days", ["0", "91", "soon"])
def test_bad_days_answer_422_naming_the_field(client, stored, days):
    for path in (f"/v1/items/{stored[3]}/forecast", "/v1/forecast/restock"):
        answer = client.get(path, params={"days": days})
        assert answer.status_code == 422 and "days" in answer.text


def test_unknown_item_and_category_answer_404(client):
    assert client.get("/v1/items/nothing-here/forecast").status_code == 404
    missing = client.get("/v1/forecast/categories", params={"category": "不存在 Nowhere"})
    assert missing.status_code == 404 and "不存在 Nowhere" in missing.json()["message"]


def test_a_chinese_category_path_round_trips(client, stored):
    leaf = str(stored[2].items["category"].iloc[0])
    top = leaf.split(CATEGORY_SEPARATOR)[0]
    for category in (top, leaf):
        answer = client.get("/v1/forecast/categories", params={"category": category, "days": 7})
        assert answer.status_code == 200, answer.text
        assert answer.json()["category"] == category and len(answer.json()["steps"]) == 7
    top_total = client.get("/v1/forecast/categories", params={"category": top}).json()["total"]
    assert top_total > 0


def test_restock_lists_the_best_seller_left_with_one_unit(client, stored):
    answer = client.get("/v1/forecast/restock", params={"days": 14})
    assert answer.status_code == 200
    alerts = answer.json()["items"]
    assert stored[3] in [a["item_id"] for a in alerts]
    assert all(a["runs_out_step"] < 14 and a["runs_out_high"] <= a["runs_out_step"] for a in alerts)
    assert [a["runs_out_step"] for a in alerts] == sorted(a["runs_out_step"] for a in alerts)


def test_cli_forecasts_an_item_a_category_and_restocks(stored, tmp_path):
    config, _, shop, best_seller = stored
    runner = CliRunner()
    table = runner.invoke(cli, ["-c", str(config), "forecast", best_seller, "--days", "5"])
    assert table.exit_code == 0, table.output
    assert best_seller in table.output and "2026-02-05" in table.output
    leaf = str(shop.items["category"].iloc[0])
    out = tmp_path / "category.json"
    written = runner.invoke(
        cli, ["-c", str(config), "forecast", "--category", leaf, "--json", "--out", str(out)]
    )
    assert written.exit_code == 0, written.output
    assert json.loads(out.read_text(encoding="utf-8"))["category"] == leaf
    assert json.loads(written.output)["category"] == leaf
    restock = runner.invoke(cli, ["-c", str(config), "forecast", "--restock", "--json"])
    assert best_seller in [a["item_id"] for a in json.loads(restock.output)["items"]]
    both = runner.invoke(cli, ["-c", str(config), "forecast", best_seller, "--restock"])
    assert both.exit_code != 0
    bad = runner.invoke(cli, ["-c", str(config), "forecast", best_seller, "--days", "0"])
    assert bad.exit_code != 0 and "days" in bad.output
