"""`push_report(events)`: how pushes did, per channel: sent, delivered, opened, clicked, and
purchases of a pushed item by its user within `attribution_days` after the push."""

from __future__ import annotations

import pandas as pd

from tailor.push.plan import DAY_MS

OUTCOMES = ("push_delivered", "push_opened", "push_clicked")


def push_report(events: pd.DataFrame, attribution_days: float) -> list[dict]:
    events = events.assign(channel=events["channel"].fillna("-"))
    sent = events[events["kind"] == "push_sent"]
    if sent.empty:
        return []
    purchases = events[events["kind"] == "purchase"][["user_id", "item_id", "ts"]]
    joined = sent[["user_id", "item_id", "ts", "channel"]].merge(
        purchases, on=["user_id", "item_id"], how="left", suffixes=("", "_buy")
    )
    window = attribution_days * DAY_MS
    joined["bought"] = (joined["ts_buy"] >= joined["ts"]) & (
        joined["ts_buy"] < joined["ts"] + window
    )
    converted = (
        joined.groupby(["channel", "user_id", "item_id", "ts"])["bought"]
        .any()
        .groupby(level=0)
        .sum()
    )
    outcomes = events[events["kind"].isin(OUTCOMES)].groupby(["channel", "kind"]).size()
    rows = []
    for channel, group in sent.groupby("channel"):
        pushes = len(group[["user_id", "ts"]].drop_duplicates())
        row = {"channel": channel, "pushes": pushes, "items_pushed": len(group)}
        for kind in OUTCOMES:
            row[kind.removeprefix("push_")] = int(outcomes.get((channel, kind), 0))
        row["purchased_items"] = int(converted.get(channel, 0))
        row["open_rate"] = round(row["opened"] / pushes, 4)
        row["click_rate"] = round(row["clicked"] / pushes, 4)
        row["purchase_rate_per_item"] = round(row["purchased_items"] / len(group), 4)
        rows.append(row)
    return rows
