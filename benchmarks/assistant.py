"""Customer-service assistant benchmark: intent accuracy, answer hit@1/hit@3, hand-off precision
and latency on a hand-written, labelled question set.

Protocol: the synthetic shop `generate_shop(300, 120, days=30, seed=7)` and the demo FAQ
(`tailor/assistant/data/demo_faq.md`) are stored in a fresh SQLite store and the engine is
trained (default models). Every question of benchmarks/data/assistant_eval.tsv (Chinese and
English; paraphrases, typos, mixed language; none of them among the intent classifier's seed
utterances) is asked once through `Assistant.ask`, after one warm-up question that is not scored.
Latency is the wall time of each `ask` call in this process (no HTTP). Metrics: see
`tailor.assistant.evaluation`.

    nice -n 10 .venv/bin/python benchmarks/assistant.py --json /tmp/assistant.json
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np

from tailor.assistant import Assistant, import_faq
from tailor.assistant.evaluation import load_questions, score
from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.settings import load_settings

QUESTIONS = Path(__file__).parent / "data" / "assistant_eval.tsv"
SHOP = {"n_users": 300, "n_items": 120, "days": 30, "seed": 7}
COLUMNS = [
    "questions",
    "lang",
    "intent_accuracy",
    "hit_at_1",
    "hit_at_3",
    "handoff_precision",
    "handoff_recall",
    "p50_ms",
    "p99_ms",
]


def fingerprint(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the protocol and rows here")
    parser.add_argument(
        "--questions",
        type=Path,
        default=QUESTIONS,
        help="the labelled questions (default: the evaluation set; data/assistant_dev.tsv is the "
        "small development set changes are tried on first)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    questions = load_questions(args.questions)
    faq_file = resources.files("tailor.assistant.data").joinpath("demo_faq.md")
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            None, store_url=f"sqlite:///{folder}/shop.db", artifacts_dir=f"{folder}/artifacts"
        )
        shop = generate_shop(SHOP["n_users"], SHOP["n_items"], days=SHOP["days"], seed=SHOP["seed"])
        with Engine(settings) as engine:
            engine.put_items(shop.items)
            engine.put_users(shop.users)
            engine.ingest_events(shop.events)
            with resources.as_file(faq_file) as faq_path:
                import_faq(engine.store, faq_path)
            engine.train(evaluate=False)
            assistant = Assistant(engine)
            assistant.ask("warm up: do you sell tea?")
            answers, latencies = [], []
            for q in questions:
                start = time.perf_counter()
                answers.append(assistant.ask(q.question, q.user_id, None))
                latencies.append((time.perf_counter() - start) * 1000)
    rows = []
    for lang in ("all", "zh", "en"):
        chosen = [i for i, q in enumerate(questions) if lang == "all" or q.lang == lang]
        ms = np.array([latencies[i] for i in chosen])
        rows.append(
            {
                "questions": len(chosen),
                "lang": lang,
                **score([questions[i] for i in chosen], [answers[i] for i in chosen]),
                "p50_ms": float(np.percentile(ms, 50)),
                "p99_ms": float(np.percentile(ms, 99)),
            }
        )
    catalogue = shop.items[["item_id", "title", "price", "stock", "hidden"]].to_csv(index=False)
    protocol = {
        "name": "assistant: hand-written questions, synthetic shop and demo FAQ",
        "shop": SHOP,
        "questions_file": args.questions.name,
        "data_fingerprint": fingerprint(
            args.questions.read_bytes(), faq_file.read_bytes(), catalogue.encode()
        ),
        "seed": SHOP["seed"],
        "handoff_below": settings.assistant.handoff_below,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_memory_mb": peak_rss_mb(),
        "machine": machine(),
    }
    print_report("Customer-service assistant", protocol, rows, COLUMNS)
    if args.json:
        write_json(args.json, protocol, rows)


if __name__ == "__main__":
    main()
