"""Train review sentiment through the CLI, then ask the HTTP route about items, in zh and en."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tailor.cli import app as cli_app
from tailor.engine import Engine
from tailor.ingest.shop_reviews import compose_reviews
from tailor.ingest.synthetic import generate_shop
from tailor.reviews import artifact
from tailor.reviews.insights import review_language
from tailor.reviews.training import stored_reviews
from tailor.service import create_app
from tailor.settings import load_settings

ITEM = "连衣裙-红色-M"  # a Chinese item id in the path
HAND_WRITTEN = [  # (rating, text): quality praised, delivery complained about
    (5, "质量很好，做工精细。"),
    (4, "质量很好，但是物流太慢了。"),
    (4, "The quality is great but delivery was very slow."),
    (2, "物流太慢了，等了两个星期才到。"),
    (5, "质量很好，非常满意，会回购。"),
]
CONFIG = """store_url = "sqlite:///{folder}/t.db"
artifacts_dir = "{folder}/artifacts"
[service]
auth = false
[reviews]
refresh_seconds = 0
"""


def _review(k: int, rating: float, text: str, item_id: str = ITEM) -> dict:
    return {
        "event_id": f"hand-{item_id}-{k}",
        "user_id": f"reviewer-{k}",
        "item_id": item_id,
        "kind": "review",
        "ts": 1_800_000_000_000 + k,
        "value": rating,
        "text": text,
    }


def _more_reviews(shop, n: int) -> pd.DataFrame:
    """`n` reviews more for the shop's items, by the shop's review generator, every rating alike
    often: the small shop alone has too few for a model to learn from."""
    rng = np.random.default_rng(8)
    rating = rng.integers(1, 6, n).astype(float)
    return pd.DataFrame(
        {
            "event_id": [f"more-{k}" for k in range(n)],
            "user_id": rng.choice(shop.users["user_id"], n),
            "item_id": rng.choice(shop.items["item_id"], n),
            "kind": "review",
            "ts": int(shop.events["ts"].max()) - rng.integers(0, 10**9, n),
            "value": rating,
            "text": compose_reviews(rng, rating, rng.integers(0, 2, n)).text,
        }
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    config = folder / "tailor.toml"
    config.write_text(CONFIG.format(folder=folder), encoding="utf-8")
    settings = load_settings(config)
    shop = generate_shop(300, 60, days=30, seed=5)
    with Engine(settings) as engine:
        engine.put_items(shop.items)
        engine.put_items([{"item_id": ITEM, "title": "红色连衣裙 Red dress"}, {"item_id": "quiet"}])
        engine.ingest_events(shop.events)
        engine.ingest_events(_more_reviews(shop, 900))
        engine.ingest_events([_review(k, r, t) for k, (r, t) in enumerate(HAND_WRITTEN)])
    runner = CliRunner()
    result = runner.invoke(cli_app, ["-c", str(config), "train", "reviews"])
    assert result.exit_code == 0, result.output
    assert "review model" in result.output and "accuracy" in result.output
    evaluated = runner.invoke(cli_app, ["-c", str(config), "evaluate", "reviews"])
    assert evaluated.exit_code == 0 and "majority class" in evaluated.output, evaluated.output
    return settings, shop


@pytest.fixture(scope="module")
def client(trained):
    with TestClient(create_app(trained[0])) as client:
        yield client


def url(item_id: str) -> str:
    return f"/v1/items/{item_id}/review-insights"


def test_insights_name_praise_and_complaints_in_chinese(client):
    answer = client.get(url(ITEM), params={"lang": "zh", "k": 3, "examples": 2})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["item_id"] == ITEM and body["reviews"] == body["rated"] == 5
    assert body["average_rating"] == 4.0
    assert [s["label"] for s in body["sentiment"]] == ["好评", "中评", "差评"]
    assert sum(s["count"] for s in body["sentiment"]) == 5
    assert body["sentiment"][0]["count"] >= 3  # positive, by the text
    praised, complained = body["praised"][0], body["complained"][0]
    assert (praised["aspect"], praised["label"]) == ("quality", "质量")
    assert praised["reviews"] >= 3 and len(praised["examples"]) == 2
    assert all(review_language(e) == "zh" for e in praised["examples"])  # asked language first
    assert (complained["aspect"], complained["label"]) == ("delivery", "物流")
    assert "quality" not in [a["aspect"] for a in body["complained"]]


def test_insights_in_english_by_lang_or_accept_language(client):
    body = client.get(url(ITEM), params={"lang": "en", "examples": 1}).json()
    assert [s["label"] for s in body["sentiment"]] == ["positive", "neutral", "negative"]
    assert body["praised"][0]["label"] == "quality"
    assert body["praised"][0]["examples"] == ["The quality is great"]
    by_header = client.get(url(ITEM), headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert by_header["lang"] == "en"


def test_a_synthetic_item_with_reviews_is_summarised(client, trained):
    settings, _ = trained
    with Engine(settings) as engine:
        reviews = stored_reviews(engine.store.events())
    busiest = reviews["item_id"].value_counts().index[0]
    body = client.get(url(busiest), params={"lang": "en", "k": 2}).json()
    assert body["reviews"] == (reviews["item_id"] == busiest).sum() > 10
    assert 1 <= len(body["praised"]) <= 2 and 1 <= len(body["complained"]) <= 2
    assert sum(s["share"] for s in body["sentiment"]) == pytest.approx(1, abs=1e-3)


def test_an_item_without_reviews_and_an_unknown_one(client):
    quiet = client.get(url("quiet")).json()
    assert quiet["reviews"] == 0 and quiet["praised"] == [] and quiet["average_rating"] is None
    unknown = client.get(url("没有这个商品"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "UnknownItemError"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"k": 0}, "k"), ({"k": 11}, "k"), ({"examples": 9}, "examples"), ({"lang": "fr"}, "lang")],
)
def test_bad_parameters_are_422_naming_the_field(client, params, field):
    answer = client.get(url(ITEM), params=params)
    assert answer.status_code == 422 and answer.json()["field"] == field


def test_a_review_posted_after_training_counts_at_once(client, trained):
    settings, _ = trained
    with Engine(settings) as engine:
        engine.ingest_events([_review(99, 1, "包装破了，盒子压扁了。", item_id="quiet")])
    body = client.get(url("quiet"), params={"lang": "zh"}).json()
    assert body["reviews"] == 1 and body["complained"][0]["aspect"] == "packaging"
    assert body["sentiment"][2]["count"] == 1  # negative


def test_before_any_review_model_the_route_says_how_to_train(tmp_path):
    config = tmp_path / "tailor.toml"
    config.write_text(CONFIG.format(folder=tmp_path), encoding="utf-8")
    settings = load_settings(config)
    with TestClient(create_app(settings)) as client:
        answer = client.get(url(ITEM))
    assert answer.status_code == 503 and "tailor train reviews" in answer.json()["message"]
    assert not list(artifact.root(settings.artifacts_dir).glob("*"))
