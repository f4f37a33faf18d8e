"""The sequential benchmark script end to end on a tiny synthetic sequence file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sequential.py"


@pytest.mark.slow  # two fresh interpreters
def test_sequential_benchmark_writes_rows_and_exports(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = []
    for user in range(60):
        block = user % 3
        items = rng.integers(0, 10, size=int(rng.integers(4, 9))) + 10 * block
        lines.append(" ".join([f"u{user}", *(f"i{i}" for i in items)]))
    data = tmp_path / "seqs.txt"
    data.write_text("\n".join(lines) + "\n")
    out, report = tmp_path / "out", tmp_path / "report.json"
    args = ["--data", str(data), "--models", "ease", "--seeds", "1", "--out", str(out)]
    args += ["--json", str(report), "--unmasked", "--params", '{"ease": {"l2": 5}}']
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    result = json.loads(report.read_text())
    assert result["protocol"]["users_items_events"][0] == 60
    assert result["protocol"]["params"]["ease"] == {"binary": True, "l2": 5}
    rows = {row["model"]: row for row in result["rows"]}
    assert set(rows) == {"ease"}
    for key in ("recall_at_5", "ndcg_at_5", "recall_at_10", "ndcg_at_10", "train_seconds"):
        assert 0 <= rows["ease"][key] and f"{key}_std" in rows["ease"]
    assert rows["ease"]["peak_mem_mb"] > 0 and "recall_at_10_unmasked" in rows["ease"]
    assert rows["ease"]["recall_at_10"] > 0.3  # blocks of 10 items: far above chance (1/30)

    exported = [json.loads(line) for line in (out / "ease.jsonl").read_text().splitlines()]
    assert len(exported) == 60 and exported[0]["user_id"] == "u0"
    histories = {line.split()[0]: set(line.split()[1:-1]) for line in lines}
    last = {line.split()[0]: line.split()[-1] for line in lines}
    assert all(not histories[r["user_id"]] & set(r["items"]) for r in exported)
    hits = np.mean([last[r["user_id"]] in r["items"][:10] for r in exported])
    assert hits == rows["ease"]["recall_at_10"]


@pytest.mark.slow  # a fresh interpreter
def test_cold_items_are_kept_out_of_training(tmp_path: Path) -> None:
    from tailor.data.dataset import Dataset
    from tailor.data.splits import sample_items
    from tailor.ingest.datasets import read_sequences

    rng = np.random.default_rng(1)
    lines = [
        " ".join([f"u{user}", *(f"i{i}" for i in rng.integers(0, 40, size=6))])
        for user in range(200)
    ]
    data = tmp_path / "seqs.txt"
    data.write_text("\n".join(lines) + "\n")
    out, report = tmp_path / "out", tmp_path / "report.json"
    args = ["--data", str(data), "--models", "popular", "--cold-items", "0.2"]
    args += ["--out", str(out), "--json", str(report)]
    done = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    dataset = Dataset.from_sequences(read_sequences(str(data)))
    cold = set(dataset.item_ids.ids(sample_items(dataset.n_items, 0.2, seed=0)))
    assert len(cold) == 8
    cold_users = sum(line.split()[-1] in cold for line in lines)
    [row] = json.loads(report.read_text())["rows"]
    assert row["cold_users"] == cold_users > 0
    # Popularity never saw the cold items: they rank below every warm one and are never hit.
    assert row["cold_recall_at_10"] == 0.0 and row["recall_at_10"] > 0
    exported = [json.loads(line) for line in (out / "popular.jsonl").read_text().splitlines()]
    assert all(not cold & set(r["items"][:20]) for r in exported)
