"""`tailor train --ray` and `tailor recommend --users --ray` against the in-process cluster."""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

from tailor.cli import app
from tailor.engine import Engine

pytestmark = pytest.mark.ray


def test_train_on_ray_searches_and_matches_one_machine(local_ray, trained_shop, tmp_path) -> None:
    config = str(trained_shop.config)
    runner = CliRunner()
    alone = runner.invoke(app, ["--config", config, "train"])
    assert alone.exit_code == 0, alone.output
    with Engine(trained_shop.settings) as engine:
        expected = engine.load().metrics
    ray = runner.invoke(
        app, ["--config", config, "train", "--ray", "auto", "--search", "itemknn.neighbours=5,100"]
    )
    assert ray.exit_code == 0, ray.output
    assert "itemknn: search on the time holdout" in ray.output
    with Engine(trained_shop.settings) as engine:
        manifest = engine.load()
    chosen = manifest.settings["train"]["model_params"]["itemknn"]["neighbours"]
    assert chosen in (5, 100)
    if chosen == 100:  # the default: every step is deterministic, so the metrics are identical
        assert manifest.metrics == expected
    assert manifest.metrics["popular"] == expected["popular"]


def test_batch_recommend_on_ray_writes_what_one_machine_writes(
    local_ray, trained_shop, tmp_path
) -> None:
    users = tmp_path / "users.txt"
    users.write_text("\n".join(f"u{i}" for i in range(40)), encoding="utf-8")
    runner, config = CliRunner(), str(trained_shop.config)
    args = ["--config", config, "recommend", "--users", str(users)]
    alone = runner.invoke(app, [*args, "--out", str(tmp_path / "a.jsonl")])
    ray = runner.invoke(app, [*args, "--out", str(tmp_path / "b.jsonl"), "--ray", "auto"])
    assert alone.exit_code == 0 and ray.exit_code == 0, ray.output
    lines = (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and json.loads(lines[0])["items"]


def test_ray_flags_need_ray(trained_shop) -> None:
    result = CliRunner().invoke(
        app, ["--config", str(trained_shop.config), "train", "--search", "itemknn.neighbours=5"]
    )
    assert result.exit_code != 0 and "need --ray" in result.output


def test_ray_without_the_extra_names_it(trained_shop, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    args = ["--config", str(trained_shop.config), "train", "--ray", "auto"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "pip install 'tailor[ray]'" in result.output


def test_push_plan_on_ray_writes_what_one_machine_writes(local_ray, trained_shop, tmp_path) -> None:
    runner, config = CliRunner(), str(trained_shop.config)
    args = ["--config", config, "push", "plan", "--channel", "app", "--at", str(trained_shop.now)]
    alone = runner.invoke(app, [*args, "--out", str(tmp_path / "a.jsonl")])
    ray = runner.invoke(app, [*args, "--out", str(tmp_path / "b.jsonl"), "--ray", "auto"])
    assert alone.exit_code == 0 and ray.exit_code == 0, ray.output
    lines = (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    expected = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == sorted(expected, key=lambda line: json.loads(line)["user_id"])  # by user id
    assert len(lines) > 10
