"""Parallel trials on Ray give exactly the one-machine trials, best first."""

from __future__ import annotations

import pytest

from tailor.data.splits import time_split
from tailor.distributed.search import parse_grid, run_trial, search
from tailor.engine import Engine
from tailor.engine.train import holdout_cutoff, load_dataset
from tailor.errors import InvalidInputError

pytestmark = pytest.mark.ray


def test_trials_match_one_machine(local_ray, trained_shop) -> None:
    settings = trained_shop.settings
    with Engine(settings) as engine:
        data, _ = load_dataset(engine.store, settings)
    grid = parse_grid(["itemknn.neighbours=5,50"])["itemknn"]
    trials = search(data, settings, "itemknn", grid)
    assert sorted(t.params["neighbours"] for t in trials) == [5, 50]
    split = time_split(data, holdout_cutoff(data))
    for trial in trials:
        assert run_trial(split, settings, "itemknn", trial.params).metrics == trial.metrics
    assert trials[0].metrics["ndcg_at_10"] >= trials[1].metrics["ndcg_at_10"]


def test_grid_options_are_parsed_and_checked() -> None:
    assert parse_grid(["als.factors=32,64", "als.regularization=0.1", "ease.l2=500"]) == {
        "als": {"factors": [32, 64], "regularization": [0.1]},
        "ease": {"l2": [500]},
    }
    with pytest.raises(InvalidInputError, match="model.param=v1,v2"):
        parse_grid(["factors=32"])
