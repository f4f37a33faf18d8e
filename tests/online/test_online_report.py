"""The online report: outcomes per list, and Wilson intervals against hand-computed values."""

from __future__ import annotations

import pytest

from tailor.online.report import list_outcomes, online_report, wilson
from tailor.store import open_store
from tailor.store.base import Feedback, ServedList


def test_wilson_matches_hand_computed_intervals():
    # 10 of 100 at 95%: z = 1.959964, centre = (0.1 + z^2/200) / (1 + z^2/100) = 0.114797,
    # half = z / (1 + z^2/100) * sqrt(0.1 * 0.9 / 100 + z^2 / 40000) = 0.059568
    rate = wilson(10, 100)
    assert rate.value == 0.1
    assert rate.low == pytest.approx(0.055229, abs=1e-6)
    assert rate.high == pytest.approx(0.174366, abs=1e-6)
    none = wilson(0, 20)  # 0 of 20: the interval still reaches up to z^2 / (n + z^2)
    assert none.low == 0.0 and none.high == pytest.approx(3.8415 / (20 + 3.8415), abs=1e-4)
    assert wilson(0, 0).value is None


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/t.db") as opened:
        yield opened


def served(request_id, variant, n=4, scenario="home"):
    items = [f"i{j}" for j in range(n)]
    return ServedList(request_id, scenario, items, 1_000, "u", "exp" if variant else None, variant)


def test_outcomes_count_shown_clicked_and_converted_items_per_list(store):
    store.add_served([served("r1", "a"), served("r2", "a"), served("r3", "b"), served("r4", "b")])
    store.add_feedback(
        [
            Feedback("r1", "impression", 1, None),  # the whole list: 4 shown
            Feedback("r1", "click", 2, "i1"),
            Feedback("r1", "click", 3, "i1"),  # the same click again counts once
            Feedback("r1", "conversion", 4, "i1"),
            Feedback("r2", "impression", 1, "i0"),  # 2 items shown, one of them clicked
            Feedback("r2", "impression", 1, "i1"),
            Feedback("r2", "click", 2, "i1"),
            Feedback("r3", "click", 2, "i3"),  # a click alone: that item was shown
        ]
    )
    outcomes = list_outcomes(*store.online_log()).set_index("request_id")
    assert outcomes.loc["r1", ["shown", "clicks", "conversions"]].tolist() == [4, 1, 1]
    assert outcomes.loc["r2", ["shown", "clicks", "conversions"]].tolist() == [2, 1, 0]
    assert outcomes.loc["r3", ["shown", "clicks", "conversions"]].tolist() == [1, 1, 0]
    assert outcomes.loc["r4", ["shown", "clicks", "conversions"]].tolist() == [0, 0, 0]

    report = online_report(store)
    total, a, b = report.rows
    assert (total.variant, a.variant, b.variant) == (None, "a", "b")
    assert (total.served, total.shown, total.clicks, total.conversions) == (4, 7, 3, 1)
    assert (a.served, a.shown, a.clicks, a.conversions) == (2, 6, 2, 1)
    assert a.ctr == wilson(2, 6) and a.conversion_rate == wilson(1, 6)
    assert (b.served, b.shown, b.ctr.value) == (2, 1, 1.0)
    as_json = report.to_json()
    assert as_json["protocol"]["interval"] == "wilson" and len(as_json["rows"]) == 3


def test_lists_outside_an_experiment_count_only_in_the_scenario_total(store):
    store.add_served([served("r1", None, scenario="popular"), served("r2", "a", scenario="search")])
    store.add_feedback([Feedback("r1", "click", 2, "i0")])
    rows = online_report(store).rows
    assert [(r.scenario, r.variant) for r in rows] == [
        ("popular", None),
        ("search", None),
        ("search", "a"),
    ]
    assert rows[0].ctr.value == 1.0 and rows[1].ctr.value is None


def test_an_empty_log_gives_no_rows(store):
    assert online_report(store).rows == []
