"""A reliability diagram as a standalone SVG: observed purchase rate against mean predicted
probability per bin, the diagonal for perfect calibration, and bar heights for bin sizes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from tailor.errors import InvalidInputError
from tailor.propensity.metrics import ReliabilityBin

SIZE, MARGIN = 360, 48


def _xy(x: float, y: float) -> tuple[float, float]:
    return MARGIN + x * SIZE, MARGIN + (1 - y) * SIZE


def reliability_svg(bins: Sequence[ReliabilityBin], title: str) -> str:
    width = height = SIZE + 2 * MARGIN
    largest = max((b.count for b in bins), default=1)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
        ),
        f'<rect x="{MARGIN}" y="{MARGIN}" width="{SIZE}" height="{SIZE}" fill="white" stroke="#888"/>',
        f'<text x="{width / 2}" y="{MARGIN / 2}" text-anchor="middle" font-size="13">{escape(title)}</text>',
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#bbb" stroke-dasharray="4 3"/>'.format(
            *_xy(0, 0), *_xy(1, 1)
        ),  # the diagonal: perfect calibration
    ]
    for b in bins:  # bin sizes, scaled to a quarter of the height
        x0, _ = _xy(b.low, 0)
        h = 0.25 * SIZE * b.count / largest
        parts.append(
            f'<rect x="{x0 + 1:.1f}" y="{MARGIN + SIZE - h:.1f}" width="{SIZE * (b.high - b.low) - 2:.1f}" '
            f'height="{h:.1f}" fill="#dde6f3"><title>{b.count} rows</title></rect>'
        )
    points = " ".join("{:.1f},{:.1f}".format(*_xy(b.mean_predicted, b.observed_rate)) for b in bins)
    parts.append(f'<polyline points="{points}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    for b in bins:
        cx, cy = _xy(b.mean_predicted, b.observed_rate)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="#1f5fa8"><title>predicted '
            f"{b.mean_predicted:.3f}, observed {b.observed_rate:.3f}, n={b.count}</title></circle>"
        )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = _xy(tick, tick)
        parts.append(
            f'<text x="{x:.1f}" y="{MARGIN + SIZE + 16}" text-anchor="middle">{tick:g}</text>'
        )
        parts.append(f'<text x="{MARGIN - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(
        f'<text x="{width / 2}" y="{height - 8}" text-anchor="middle">mean predicted probability 预测概率</text>'
        f'<text x="14" y="{height / 2}" text-anchor="middle" transform="rotate(-90 14 {height / 2})">'
        "observed rate 实际购买率</text></svg>"
    )
    return "\n".join(parts)


def save_reliability(bins: Sequence[ReliabilityBin], title: str, path: Path) -> None:
    if path.suffix.lower() != ".svg":
        raise InvalidInputError(
            f"the reliability diagram is written as SVG; name a .svg file, not {path.name}",
            field="plot",
        )
    path.write_text(reliability_svg(bins, title), encoding="utf-8")
