"""The `tailor` command end to end in a temporary shop folder: init, import, train, recommend, evaluate."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from tailor.cli import app
from tailor.engine import Engine
from tailor.ingest.synthetic import generate_shop
from tailor.settings import load_settings

runner = CliRunner()


def tailor(*args: str):
    result = runner.invoke(app, list(args))
    return result


@pytest.fixture
def shop_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_TRAIN__MODELS", '["popular", "itemknn", "ease"]')
    shop = generate_shop(100, 50, days=30, seed=5)
    shop.items[["item_id", "title", "category", "price"]].to_csv("items.csv", index=False)
    events = shop.events[["user_id", "item_id", "kind", "ts"]].rename(
        columns={"user_id": "customer"}
    )
    events.to_csv("events.csv", index=False)
    with open("events.csv", "a", encoding="utf-8") as handle:
        handle.write("someone,some-item,teleport,1700000000000\n")
    return shop


def test_init_import_train_recommend_evaluate(shop_folder, tmp_path):
    result = tailor("init")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tailor.toml").read_text().startswith("# Tailor settings")
    assert (tmp_path / "var" / "tailor.db").exists()

    result = tailor("recommend", "anyone")
    assert result.exit_code == 1 and "tailor train" in result.output

    result = tailor("import", "items", "items.csv")
    assert result.exit_code == 0, result.output
    assert f"wrote {len(shop_folder.items):,}" in result.output
    result = tailor("import", "events", "events.csv", "--map", "user_id=customer")
    assert result.exit_code == 0, result.output
    assert f"wrote {len(shop_folder.events):,}" in result.output and "rejected 1" in result.output
    assert "kind" in result.output  # the rejected row's field is shown

    result = tailor("train")
    assert result.exit_code == 0, result.output
    assert "is current" in result.output and "blend" in result.output
    assert re.search(r"peak memory [\d,]+ MB", result.output)

    user = str(shop_folder.events["user_id"].value_counts().index[0])
    result = tailor("recommend", user, "--k", "3")
    assert result.exit_code == 0, result.output
    rows = re.findall(r"^│ \d │", result.output, re.MULTILINE)
    assert len(rows) == 3 and "because you" in result.output  # reasons a shopper can read

    (tmp_path / "users.txt").write_text(f"{user}\nstranger\n")
    result = tailor("recommend", "--users", "users.txt", "--k", "4", "--out", "recs.jsonl")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in (tmp_path / "recs.jsonl").read_text().splitlines()]
    assert [line["user_id"] for line in lines] == [user, "stranger"]
    assert all(len(line["items"]) == 4 for line in lines)
    assert lines[1]["reasons"][0].startswith("popular")

    result = tailor("evaluate", "--json", "metrics.json")
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert [row["model"] for row in report["rows"]] == ["popular", "itemknn", "ease", "blend", "ranker"]
    assert report["protocol"]["name"] == "time holdout" and report["protocol"]["data_fingerprint"]
    assert all(0 <= row["recall_at_10"] <= 1 for row in report["rows"])


def test_bad_mapping_is_explained(shop_folder):
    tailor("init")
    result = tailor("import", "events", "events.csv", "--map", "user_id")
    assert result.exit_code != 0 and "canonical=source" in result.output


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["init"],
        ["import"],
        ["import", "events"],
        ["import", "dataset"],
        ["train"],
        ["evaluate"],
        ["serve"],
        ["recommend"],
        ["demo"],
    ],
)
def test_every_command_has_help(command):
    result = tailor(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_import_dataset_amazon_then_train(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_TRAIN__MODELS", '["popular", "itemknn"]')
    lines = [f"u{u} " + " ".join(f"i{(u + step) % 12}" for step in range(6)) for u in range(40)]
    (tmp_path / "Tiny.txt").write_text("\n".join(lines) + "\n")
    result = tailor("import", "dataset", "amazon", "Tiny.txt")
    assert result.exit_code == 0, result.output
    assert "wrote 240" in result.output
    result = tailor("train", "--no-evaluate")
    assert result.exit_code == 0, result.output
    assert "is current" in result.output and "recall" not in result.output


def test_demo_trains_recommenders_and_purchase_prediction(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TAILOR_TRAIN__MODELS", '["popular", "itemknn"]')
    result = tailor("demo", "--users", "150", "--items", "60", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "propensity version" in result.output and "for user u0" in result.output
    with Engine(load_settings()) as engine:
        answer = engine.purchase_probability("u0")
    assert 0.0 <= answer["probability"] <= 1.0
