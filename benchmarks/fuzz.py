"""Fuzzing: schemathesis against the OpenAPI schema of a served synthetic shop, many cases per operation.

The app runs in process (ASGI) on a trained synthetic shop (recommenders and purchase prediction)
with an admin key and rate limits far above what the fuzzer sends. Every operation the schema
lists gets up to `--examples` cases, valid and invalid, under schemathesis' default checks
(no 5xx; status codes, content types, headers and bodies as documented; invalid input refused,
valid input accepted). Unlike the CI test, a failing case does not stop the run: each one is
counted, and the first few messages per operation are printed.

    .venv/bin/python benchmarks/fuzz.py --examples 2000 --json /tmp/fuzz.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report, write_json
from tailor.ingest.synthetic import generate_shop
from tailor.propensity.service import train_propensity
from tailor.reviews import train_reviews
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.service.schemas import CONTEXT_FIELDS
from tailor.settings import Role, Settings, load_settings

UNLIMITED = {role.value: {"per_second": 1e9, "burst": 10**9} for role in Role}


def trained_shop(folder: Path, users: int, items: int, seed: int) -> Settings:
    config = load_settings(
        store_url=f"sqlite:///{folder}/tailor.db",
        artifacts_dir=folder / "artifacts",
        train={"models": ["popular", "itemknn", "content"]},
        reviews={"min_reviews": 2},  # the small shop has a handful
        service={"rate_limits": UNLIMITED},
    )
    shop = generate_shop(users, items, days=20, seed=seed)
    with Engine(config) as engine:
        engine.put_items(shop.items)
        engine.put_users(shop.users)
        engine.ingest_events(shop.events)
        engine.train()
        train_propensity(engine.store, engine.settings)
        train_reviews(engine.store, engine.settings)  # every route has its model: no 503 for want
    return config


def fuzz_operation(operation: Any, headers: dict[str, str], examples: int) -> dict[str, Any]:
    """Run up to `examples` cases; count every case, 5xx and failed check instead of stopping."""
    tally: Counter[str] = Counter()
    messages: list[str] = []
    context_checked = CONTEXT_FIELDS in operation.definition.raw
    excluded = [positive_data_acceptance] if context_checked else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: failures are counted, not raised
    )
    def run(case: schemathesis.Case) -> None:
        tally["cases"] += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # noqa: BLE001 (in process, an unhandled error arrives raised: a 500)
            tally["server_errors"] += 1
            tally["failed_cases"] += 1
            if len(messages) < 3:
                messages.append(f"500: {type(exc).__name__}: {exc}")
            return
        tally["server_errors"] += response.status_code >= 500
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        except (Failure, FailureGroup) as exc:  # a failed check: counted, the run goes on
            tally["failed_cases"] += 1
            if len(messages) < 3:
                messages.append(f"{response.status_code}: {str(exc).strip()[:400]}")

    start = time.perf_counter()
    run()
    return {
        "operation": operation.label,
        "cases": tally["cases"],
        "server_errors": tally["server_errors"],
        "failed_cases": tally["failed_cases"],
        "wall_seconds": round(time.perf_counter() - start, 1),
        "examples": messages,
    }


def fuzz_all(config: Settings, examples: int) -> list[dict[str, Any]]:
    """Fuzz every operation of the app serving the trained shop in `config`, with an admin key."""
    with Engine(config) as engine:
        headers = {"Authorization": f"Bearer {create_key(engine.store, Role.admin, 'fuzz')[0]}"}
        engine.load()
        schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(config, engine))
        return [
            fuzz_operation(result.ok(), headers, examples)
            for result in schema.get_all_operations()
        ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=2000, help="cases per operation, at most")
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tailor-fuzz-") as tmp:
        rows = fuzz_all(trained_shop(Path(tmp), args.users, args.items, args.seed), args.examples)
    total = {
        "operation": "all",
        **{k: sum(r[k] for r in rows) for k in ("cases", "server_errors", "failed_cases")},
        "wall_seconds": round(sum(r["wall_seconds"] for r in rows), 1),
    }
    protocol = {
        "benchmark": "schemathesis fuzzing",
        "method": f"schemathesis {schemathesis.__version__}, default checks, up to "
        f"{args.examples} derandomized cases per operation (positive and negative), in process "
        "(ASGI), admin key, no rate limit",
        "data": f"generate_shop({args.users}, {args.items}, days=20, seed={args.seed}), "
        "trained: popular, itemknn, content, propensity",
        "peak_mem_mb": peak_rss_mb(),
        "machine": machine(),
    }
    columns = ["operation", "cases", "server_errors", "failed_cases", "wall_seconds"]
    print_report("Tailor API fuzzing", protocol, [*rows, total], columns)
    for row in rows:
        for message in row["examples"]:
            print(f"\n{row['operation']}: {message}")
    if args.json:
        write_json(args.json, protocol, [*rows, total])


if __name__ == "__main__":
    main()
