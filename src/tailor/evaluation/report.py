"""What every benchmark prints and writes: a table of measured rows (and published rows for
comparison, clearly apart), the protocol, the machine, and `--json FILE` as
{"protocol": {...}, "rows": [{...}]}.

Memory is read from the kernel, not from tracemalloc, which misses native allocations (BLAS,
implicit, torch): VmHWM is the process's peak resident set, VmRSS its current one.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table


def _proc_status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0  # reported in kB
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = _proc_status_mb("VmHWM")
    if peak is None:  # not Linux: ru_maxrss is kB on Linux, bytes on macOS
        scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    return round(peak, 1)


def rss_mb() -> float:
    """Current resident memory of this process, in MB (the peak where that is all there is)."""
    current = _proc_status_mb("VmRSS")
    return round(current, 1) if current is not None else peak_rss_mb()


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def mean_std(rows: Sequence[Mapping[str, float]], keys: Sequence[str]) -> dict[str, float]:
    """`key` (mean) and `key_std` (population std) of each key over rows (e.g. over seeds)."""
    out: dict[str, float] = {}
    for key in keys:
        values = np.array([row[key] for row in rows], dtype=np.float64)
        out[key] = float(values.mean())
        out[f"{key}_std"] = float(values.std())
    return out


# Columns whose keys carry a unit are physical quantities; the rest are scores in [0, 1].
_UNIT_SUFFIXES = ("_seconds", "_mb", "_ms", "_per_s")


def _cell(row: Mapping[str, Any], column: str) -> str:
    value = row.get(column)
    if not isinstance(value, float):
        return "" if value is None else str(value)
    pattern = "{:,.1f}" if column.endswith(_UNIT_SUFFIXES) else "{:.4f}"
    std = row.get(f"{column}_std")
    if isinstance(std, float) and std > 0:
        return f"{pattern.format(value)} ± {pattern.format(std)}"
    return pattern.format(value)


def print_report(
    title: str,
    protocol: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    published: Sequence[Mapping[str, Any]] = (),
    console: Console | None = None,
) -> None:
    """Measured rows first, then published ones under their own heading, then the protocol."""
    console = console or Console(width=200)
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, justify="left" if column == columns[0] else "right")
    for row in rows:
        table.add_row(*(_cell(row, c) for c in columns))
    if published:
        table.add_section()
        table.add_row(
            "[dim]published / reference (not measured by this run)[/dim]",
            *[""] * (len(columns) - 1),
        )
        for row in published:
            table.add_row(*(f"[dim]{_cell(row, c)}[/dim]" for c in columns))
    console.print(table)
    for key, value in protocol.items():
        console.print(
            f"[bold]{key}[/bold]: {value if not isinstance(value, dict) else json.dumps(value)}"
        )


def write_json(
    path: str | Path, protocol: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]
) -> None:
    Path(path).write_text(
        json.dumps(
            {"protocol": dict(protocol), "rows": [dict(r) for r in rows]},
            indent=1,
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
