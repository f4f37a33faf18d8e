"""A/B assignment: stable per user, proportional to the weights, reshuffled by a new salt."""

from __future__ import annotations

from collections import Counter

import pytest

from tailor.errors import ConfigError
from tailor.online.ab import Experiments, assign
from tailor.settings import load_settings

USERS = [f"u{i}" for i in range(20_000)]


def experiment(weights=(1.0, 3.0), salt=None, scenarios=None):
    spec = {
        "name": "diversity",
        "salt": salt,
        "variants": [
            {"name": "cap", "weight": weights[0]},
            {"name": "mmr", "weight": weights[1], "rules": {"diversity": "mmr"}},
        ],
    }
    if scenarios is not None:
        spec["scenarios"] = scenarios
    return load_settings(online={"experiments": [spec]}).online


def test_a_user_keeps_their_variant():
    first = [assign(experiment().experiments[0], u).variant for u in USERS[:500]]
    experiments = Experiments(experiment())
    again = [experiments.assignment("home", u).variant for u in USERS[:500]]
    assert first == again


def test_variants_get_users_in_proportion_to_their_weights():
    diversity = experiment().experiments[0]
    shares = Counter(assign(diversity, u).variant for u in USERS)
    # 20,000 users at p = 0.25: the binomial standard deviation is 0.003
    assert shares["cap"] / len(USERS) == pytest.approx(0.25, abs=0.015)
    assert shares["mmr"] / len(USERS) == pytest.approx(0.75, abs=0.015)


def test_the_variant_carries_its_rule_overrides():
    experiments = Experiments(experiment())
    mmr = next(a for u in USERS if (a := experiments.assignment("home", u)).variant == "mmr")
    cap = next(a for u in USERS if (a := experiments.assignment("home", u)).variant == "cap")
    assert mmr.rules == {"diversity": "mmr"} and cap.rules == {}
    assert mmr.experiment == "diversity"


def test_a_new_salt_reshuffles_users():
    before, after = experiment().experiments[0], experiment(salt="round-2").experiments[0]
    old = [assign(before, u).variant for u in USERS[:2000]]
    new = [assign(after, u).variant for u in USERS[:2000]]
    moved = sum(a != b for a, b in zip(old, new)) / len(old)
    assert 0.3 < moved < 0.45  # independent draws at 1:3 differ with p = 2 * 0.25 * 0.75


def test_no_assignment_outside_the_experiments_scenarios_or_without_a_user():
    experiments = Experiments(experiment(scenarios=["home"]))
    assert experiments.assignment("search", "u1") is None
    assert experiments.assignment("home", None) is None
    assert experiments.assignment("home", "u1") is not None


@pytest.mark.parametrize(
    "spec, problem",
    [
        ({"name": "e", "variants": [{"name": "a"}]}, "at least 2"),
        ({"name": "e", "variants": [{"name": "a"}, {"name": "a"}]}, "repeats a variant"),
        ({"name": "e", "variants": [{"name": "a"}, {"name": "b", "weight": 0}]}, "greater than 0"),
        ({"name": "e", "scenarios": ["nope"], "variants": [{"name": "a"}, {"name": "b"}]}, "nope"),
        (
            {"name": "e", "variants": [{"name": "a"}, {"name": "b", "rules": {"colour": 1}}]},
            "colour",
        ),
    ],
)
def test_invalid_experiments_are_refused_at_start_up(spec, problem):
    with pytest.raises(ConfigError, match=problem):
        load_settings(online={"experiments": [spec]})


def test_two_experiments_may_not_share_a_scenario():
    variants = [{"name": "a"}, {"name": "b"}]
    with pytest.raises(ConfigError, match="one experiment at a time"):
        load_settings(
            online={
                "experiments": [
                    {"name": "x", "scenarios": ["home"], "variants": variants},
                    {"name": "y", "scenarios": ["home", "search"], "variants": variants},
                ]
            }
        )
