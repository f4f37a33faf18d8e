"""CTR and conversion per scenario and per A/B variant, with Wilson score intervals.

The unit is an item shown in a served list. Per list: the items reported as impressions (all of
them after an impression without an item), plus any item clicked or converted (it was shown);
a click and a conversion count once per item and list. CTR = clicked / shown, conversion =
converted / shown. Lists with no feedback at all are counted as served but not as shown: nothing
says they reached a screen. Items of one list are not independent draws, so the intervals are
somewhat narrow when lists are long.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import pandas as pd

from tailor.online.feedback import CLICK, CONVERSION, IMPRESSION
from tailor.store.base import Store

NO_VALUE = "-"


@dataclass(frozen=True)
class Rate:
    value: float | None  # None when nothing was shown
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ReportRow:
    scenario: str
    experiment: str | None  # None on a scenario's total over every variant
    variant: str | None
    served: int  # lists answered
    shown: int  # items shown (see the module doc)
    clicks: int
    conversions: int
    ctr: Rate
    conversion_rate: Rate


@dataclass(frozen=True)
class OnlineReport:
    confidence: float
    since: int | None
    until: int | None
    rows: list[ReportRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "protocol": {
                "name": "online feedback",
                "unit": "item shown in a served list",
                "interval": "wilson",
                "confidence": self.confidence,
                "since_ms": self.since,
                "until_ms": self.until,
            },
            "rows": [asdict(row) for row in self.rows],
        }


def wilson(successes: int, trials: int, confidence: float = 0.95) -> Rate:
    """The proportion and its Wilson score interval; all None for zero trials."""
    if trials <= 0:
        return Rate(None, None, None)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return Rate(p, max(0.0, centre - half), min(1.0, centre + half))


def online_report(
    store: Store,
    *,
    since: int | None = None,
    until: int | None = None,
    confidence: float = 0.95,
) -> OnlineReport:
    """The report over the lists served with `since <= ts < until` (ms)."""
    served, feedback = store.online_log(since=since, until=until)
    per_list = list_outcomes(served, feedback)
    rows = _rows(per_list, ["scenario"], confidence)
    with_variant = per_list[per_list["variant"] != NO_VALUE]
    rows += _rows(with_variant, ["scenario", "experiment", "variant"], confidence)
    rows.sort(key=_order)
    return OnlineReport(confidence, since, until, rows)


def _order(row: ReportRow) -> tuple[str, bool, str, str]:
    """A scenario's total first, then its variants."""
    return (row.scenario, row.variant is not None, row.experiment or "", row.variant or "")


def list_outcomes(served: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """Per served list: scenario, experiment, variant, and its shown, clicks, conversions."""
    lists = served.set_index("request_id")[["scenario", "experiment", "variant", "n_items"]].copy()
    lists[["experiment", "variant"]] = lists[["experiment", "variant"]].fillna(NO_VALUE)
    named = feedback[feedback["item_id"].notna()]
    pairs = named.drop_duplicates(["request_id", "item_id"])
    whole = feedback[(feedback["kind"] == IMPRESSION) & feedback["item_id"].isna()]
    items_shown = pairs.groupby("request_id").size()
    lists["shown"] = items_shown.reindex(lists.index, fill_value=0)
    whole_ids = lists.index.isin(whole["request_id"])
    lists.loc[whole_ids, "shown"] = lists.loc[whole_ids, "n_items"]
    for kind, column in ((CLICK, "clicks"), (CONVERSION, "conversions")):
        hits = named[named["kind"] == kind].drop_duplicates(["request_id", "item_id"])
        lists[column] = hits.groupby("request_id").size().reindex(lists.index, fill_value=0)
    return lists.reset_index()


def _rows(lists: pd.DataFrame, keys: list[str], confidence: float) -> list[ReportRow]:
    if not len(lists):
        return []
    sums = lists.groupby(keys, sort=True).agg(
        served=("request_id", "size"),
        shown=("shown", "sum"),
        clicks=("clicks", "sum"),
        conversions=("conversions", "sum"),
    )
    rows = []
    for key, total in sums.iterrows():
        names = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        shown, clicks, conversions = int(total.shown), int(total.clicks), int(total.conversions)
        rows.append(
            ReportRow(
                scenario=names["scenario"],
                experiment=names.get("experiment"),
                variant=names.get("variant"),
                served=int(total.served),
                shown=shown,
                clicks=clicks,
                conversions=conversions,
                ctr=wilson(clicks, shown, confidence),
                conversion_rate=wilson(conversions, shown, confidence),
            )
        )
    return rows
