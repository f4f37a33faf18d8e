"""Plotly figures as plain JSON-ready dicts; `static/console.js` draws them with plotly.min.js.

Building the dicts here keeps the Python side free of plotly's import cost; the package is used
for the JavaScript it ships (served by the console, so pages work offline).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tailor.console.stats import DailyCounts

FONT = '"WenQuanYi Micro Hei", "Noto Sans CJK SC", "Microsoft YaHei", system-ui, sans-serif'
Figure = dict[str, Any]


def _layout(title: str, x_title: str = "", y_title: str = "", **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 15}},
        "font": {"family": FONT, "size": 12},
        "margin": {"l": 56, "r": 16, "t": 44, "b": 44},
        "height": 320,
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.2},
        "paper_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def day_label(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def daily_bars(
    daily: DailyCounts, title: str, y_title: str, names: Mapping[str, str] | None = None
) -> Figure:
    """Stacked bars: one series per kind (or channel) per day."""
    x = [day_label(d) for d in daily.days]
    return {
        "data": [
            {"type": "bar", "name": (names or {}).get(label, label), "x": x, "y": values}
            for label, values in daily.series.items()
        ],
        # Numeric dates: plotly's month names would be English on a Chinese page.
        "layout": _layout(title, "", y_title, barmode="stack")
        | {"xaxis": {"tickformat": "%m-%d", "type": "date"}},
    }


def metric_curves(
    metrics: Mapping[str, Mapping[str, float]], ks: Sequence[int], metric: str, title: str
) -> Figure:
    """`metric`@K against K, one line per model."""
    data = []
    for model, values in metrics.items():
        points = [(k, values.get(f"{metric}_at_{k}")) for k in ks]
        points = [(k, v) for k, v in points if v is not None]
        if points:
            data.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": model,
                    "x": [k for k, _ in points],
                    "y": [v for _, v in points],
                }
            )
    layout = _layout(title, "K")
    layout["xaxis"]["tickvals"] = list(ks)
    return {"data": data, "layout": layout}


def bars(labels: Sequence[str], values: Sequence[float], title: str, y_title: str) -> Figure:
    return {
        "data": [{"type": "bar", "x": list(labels), "y": list(values)}],
        "layout": _layout(title, "", y_title),
    }


def grouped_bars(groups: Mapping[str, Mapping[str, float]], title: str, y_title: str) -> Figure:
    """One bar series per outer key over the inner keys (e.g. metric per model per version)."""
    return {
        "data": [
            {"type": "bar", "name": name, "x": list(values), "y": list(values.values())}
            for name, values in groups.items()
        ],
        "layout": _layout(title, "", y_title, barmode="group"),
    }


def rates_with_intervals(
    labels: Sequence[str], rates: Sequence[Mapping[str, float | None]], title: str
) -> Figure:
    """Bars of rates (in %) with their confidence intervals as error bars."""

    def pct(value: float | None) -> float | None:
        return None if value is None else 100 * value

    values = [pct(r["value"]) for r in rates]
    return {
        "data": [
            {
                "type": "bar",
                "x": list(labels),
                "y": values,
                "error_y": {
                    "type": "data",
                    "symmetric": False,
                    "array": [
                        None if v is None or r["high"] is None else pct(r["high"]) - v
                        for v, r in zip(values, rates)
                    ],
                    "arrayminus": [
                        None if v is None or r["low"] is None else v - pct(r["low"])
                        for v, r in zip(values, rates)
                    ],
                },
            }
        ],
        "layout": _layout(title, "", "%"),
    }
