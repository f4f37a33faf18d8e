"""Train a propensity version through the CLI, then ask the HTTP route and evaluate it."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tailor.cli import app as cli_app
from tailor.engine import Engine
from tailor.errors import UnknownUserError
from tailor.propensity import artifact
from tailor.service import create_app
from tailor.settings import load_settings


@pytest.fixture(scope="module")
def trained(tmp_path_factory, stored_small_shop):
    config, settings, shop = stored_small_shop(tmp_path_factory.mktemp("propensity"), seed=4)
    result = CliRunner().invoke(cli_app, ["-c", str(config), "train", "propensity"])
    assert result.exit_code == 0, result.output
    assert "propensity version" in result.output
    return config, settings, shop


def test_purchase_probability_route(trained):
    _, settings, shop = trained
    buyer = shop.events[shop.events["kind"] == "purchase"].iloc[-1]
    at = int(shop.events["ts"].max()) + 1
    assert not list(artifact.root(settings.artifacts_dir).rglob("*.pkl"))
    with TestClient(create_app(settings)) as client:
        url = f"/v1/users/{buyer.user_id}/purchase-probability"
        answer = client.get(url, params={"days": 7, "item_id": buyer.item_id, "at": at})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert 0 <= body["probability"] <= 1 and 0 <= body["item"]["probability"] <= 1
        assert (
            body["category"]["id"] == shop.items.set_index("item_id").loc[buyer.item_id, "category"]
        )
        assert "repurchase" in body
        assert client.get(url, params={"days": 3}).json()["field"] == "days"
        assert client.get(url, params={"days": 0}).status_code == 422
        assert client.get(url, params={"item_id": "nope"}).status_code == 404
        assert client.get("/v1/users/nobody/purchase-probability").status_code == 404


def test_events_count_at_once_without_retraining(trained):
    _, settings, shop = trained
    with Engine(settings) as engine:
        at = int(shop.events["ts"].max()) + 1
        with pytest.raises(UnknownUserError):
            engine.propensity.probability("newcomer", 7, now=at + 10_000)
        engine.ingest_events(
            [
                {
                    "event_id": f"cart-{k}",
                    "user_id": "newcomer",
                    "item_id": "i1",
                    "kind": "cart",
                    "ts": at + k,
                }
                for k in range(5)
            ]
        )
        answer = engine.propensity.probability("newcomer", 7, item_id="i1", now=at + 10_000)
        assert 0 <= answer["probability"] <= 1 and 0 <= answer["item"]["probability"] <= 1


def test_no_model_yet_is_503(tmp_path):
    settings = load_settings(
        store_url=f"sqlite:///{tmp_path}/t.db",
        artifacts_dir=tmp_path / "a",
        service={"auth": False},
    )
    with TestClient(create_app(settings)) as client:
        answer = client.get("/v1/users/u1/purchase-probability")
        assert answer.status_code == 503 and "tailor train propensity" in answer.json()["message"]


def test_evaluate_propensity_prints_metrics_and_writes_the_diagram(trained, tmp_path):
    config, _, _ = trained
    plot, out = tmp_path / "rel.svg", tmp_path / "m.json"
    result = CliRunner().invoke(
        cli_app,
        ["-c", str(config), "evaluate", "propensity", "--plot", str(plot), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "auc" in result.output and plot.read_text(encoding="utf-8").startswith("<svg")
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert rows[0]["target"] == "user buys anything"
    assert {"auc", "log_loss", "brier", "ece", "auc_ci_low", "baseline_auc"} <= rows[0].keys()
