"""Reliability, the acceptance run of issue 7: crashes, hostile input, erasure and a soak, in one table.

1. Crash safety (`benchmarks/crash.py`): a real `tailor serve` SIGKILLed `--kills` times per
   backend while 4 client processes stream events and retry unacknowledged ones with the same ids;
   then events lost, duplicated or changed, and the store's integrity check.
2. Erasure (`tailor.privacy.audit_erasure`): `--erase-users` users with distinctive ids (Latin and
   Chinese) get events and a profile, a training names them, their recommendations and profiles
   are asked for (so every cache holds them), and the search must find them. Then each is erased
   with DELETE /v1/users/{id}; every table, artifact file and cache is searched right after, and
   again after the next training. A check passes when the search found the user before and finds
   nothing after: 2 checks per user.
3. Hostile input (`benchmarks/fuzz.py`): schemathesis against the OpenAPI schema, every operation,
   `--examples` cases each, default checks, on the same trained shop.
4. Soak (`benchmarks/soak.py`): mixed load at half the measured maximum for `--soak-minutes`,
   or, with `--soak-from FILE`, the figures of a soak already run (`soak.py --json FILE`), so
   a long soak is not run twice. Likewise `--crash-from FILE` takes the rows of a
   `crash.py --json FILE` run instead of part 1.

    .venv/bin/python benchmarks/reliability.py --short --json /tmp/reliability.json   # CI sizes
    nice -n 10 .venv/bin/python benchmarks/reliability.py --kills 100 --examples 2000 \\
        --backends sqlite postgresql --soak-minutes 30 --json /tmp/reliability.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from crash import crash_run, passed, store_for
from fastapi.testclient import TestClient
from fuzz import fuzz_all, trained_shop
from soak import SoakPlan, soak

from tailor.engine import Engine
from tailor.evaluation.report import machine, peak_rss_mb, print_report
from tailor.privacy import audit_erasure
from tailor.privacy.erasure import user_caches
from tailor.service import create_app
from tailor.service.auth import create_key
from tailor.settings import Role, Settings

EVENTS_PER_ERASED_USER = 6
# the crash clients' deadline per kill: a restart on a loaded 2-core machine can take most of a
# minute, and a client that gives up leaves its events unacknowledged (crash.passed fails then)
CLIENT_SECONDS_PER_KILL = 60.0
MUST_BE_ZERO = ("lost", "duplicates", "mismatched", "server_errors", "soak_server_errors")
# the run fails without them; crash_passed: acknowledged > 0 and crash.passed (nothing lost,
# duplicated, changed or refused, integrity ok, no client gave up)
MUSTS = (*MUST_BE_ZERO, "integrity", "deletion_checks_passed", "crash_passed")
MEM_GROWTH_GOAL_PCT = 10.0
P99_DRIFT_GOAL_PCT = 20.0


@dataclass(frozen=True)
class Sizes:
    kills: int
    backends: tuple[str, ...]
    max_uptime: float
    max_events: int
    examples: int
    erase_users: int
    soak: SoakPlan


SHORT = Sizes(kills=10, backends=("sqlite",), max_uptime=0.3, max_events=20_000, examples=200,
              erase_users=5, soak=SoakPlan.short())  # fmt: skip


def crash_figures(sizes: Sizes, seed: int) -> list[dict[str, Any]]:
    rows = []
    for backend in sizes.backends:
        with tempfile.TemporaryDirectory(prefix=f"tailor-reliability-crash-{backend}-") as tmp:
            with store_for(backend, Path(tmp)) as url:
                found = crash_run(url, Path(tmp), kills=sizes.kills, max_uptime=sizes.max_uptime,
                                  max_events=sizes.max_events, max_batch=50,
                                  max_seconds=CLIENT_SECONDS_PER_KILL * max(sizes.kills, 10),
                                  seed=seed)  # fmt: skip
        rows.append({"backend": backend, **found, "passed": passed(found)})
    return rows


def erased_user_ids(n: int) -> list[str]:
    return [f"erasure-check-{n:03d}-" + ("顾客" if n % 2 else "customer") for n in range(n)]


def erasure_figures(config: Settings, n_users: int) -> dict[str, Any]:
    """Erase users through the API and search for them after, and again after a training."""
    users = erased_user_ids(n_users)
    with Engine(config) as engine:
        _give_history(engine, users)
        engine.train(evaluate=False)
        app = create_app(config, engine)
        key = create_key(engine.store, Role.admin, "erasure-check")[0]
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
            for user in users:
                client.get(f"/v1/users/{quote(user)}/recommendations").raise_for_status()
                client.get(f"/v1/users/{quote(user)}/profile").raise_for_status()
            found_before = [not _search(engine, app, user).passed for user in users]
            erased = [client.delete(f"/v1/users/{quote(user)}").status_code == 200 for user in users]
            clean_after = [_search(engine, app, user).passed for user in users]
            engine.train(evaluate=False)
            clean_after_training = [_search(engine, app, user).passed for user in users]
    # a check counts only if the search found the user before: so it could have failed
    checks = [
        before and ok and clean
        for after in (clean_after, clean_after_training)
        for before, ok, clean in zip(found_before, erased, after)
    ]
    return {
        "deletion_checks": len(checks),
        "deletion_checks_passed": sum(checks),
        "users_found_before_erasure": sum(found_before),
        "erasures_answered_200": sum(erased),
    }


def _give_history(engine: Engine, users: list[str]) -> None:
    items = engine.store.items()["item_id"].astype(str).tolist()
    now = int(time.time() * 1000)
    engine.put_users([{"user_id": user, "attributes": {"region": "华东"}} for user in users])
    result = engine.ingest_events([
        {"event_id": f"{user}-{j}", "user_id": user, "item_id": items[(n * 7 + j) % len(items)],
         "kind": "purchase" if j == 0 else "view", "ts": now - (EVENTS_PER_ERASED_USER - j) * 60_000}
        for n, user in enumerate(users) for j in range(EVENTS_PER_ERASED_USER)
    ])  # fmt: skip
    if result.accepted != len(users) * EVENTS_PER_ERASED_USER:
        raise RuntimeError(f"the erased users' events were not all accepted: {result}")


def _search(engine: Engine, app: Any, user: str) -> Any:
    risk = getattr(app.state, "risk_book", None)
    caches = user_caches(engine, {"risk_scores": risk} if risk is not None else None)
    return audit_erasure(engine.store, engine.settings.artifacts_dir, user,
                         privacy=engine.settings.privacy, caches=caches)  # fmt: skip


def crash_from(path: Path) -> list[dict[str, Any]]:
    """The rows of a crash run by `crash.py --json`, one per backend (as `crash_figures` makes)."""
    return json.loads(path.read_text(encoding="utf-8"))["rows"]


def soak_from(path: Path) -> dict[str, Any]:
    """The details of a soak run by `soak.py --json` (as `soak` returns them)."""
    found = json.loads(path.read_text(encoding="utf-8"))
    protocol = found["protocol"]
    shop = {"data_fingerprint": protocol["data_fingerprint"], "from": str(path)}
    return {"summary": protocol["summary"], "ramp": protocol["ramp"], "windows": found["rows"],
            "shop": shop}  # fmt: skip


def run(
    sizes: Sizes,
    seed: int,
    soaked: dict[str, Any] | None = None,
    crashes: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The figures (the acceptance keys first) and the details of each part; `soaked` and
    `crashes`: the details of a soak and the rows of a crash run already made, instead of
    running them."""
    started = time.perf_counter()
    crashes = crashes if crashes is not None else crash_figures(sizes, seed)
    with tempfile.TemporaryDirectory(prefix="tailor-reliability-shop-") as tmp:
        config = trained_shop(Path(tmp), 80, 40, seed)
        erasure = erasure_figures(config, sizes.erase_users)
        fuzzed = fuzz_all(config, sizes.examples)
    if soaked is None:
        with tempfile.TemporaryDirectory(prefix="tailor-reliability-soak-") as tmp:
            soaked = soak(Path(tmp), sizes.soak, log=False)
    summary = soaked["summary"]
    figures = {
        "kills": sum(r["kills"] for r in crashes),
        "acknowledged": sum(r["acknowledged"] for r in crashes),
        "lost": sum(r["lost"] for r in crashes),
        "duplicates": sum(r["duplicates"] for r in crashes),
        "fuzz_cases": sum(r["cases"] for r in fuzzed),
        "server_errors": sum(r["server_errors"] for r in fuzzed),
        "deletion_checks_passed": erasure["deletion_checks_passed"],
        "soak_minutes": summary["soak_minutes"],
        "soak_server_errors": summary["soak_server_errors"],
        "soak_mem_growth_pct": summary["soak_mem_growth_pct"],
        "soak_p99_drift_pct": summary["p99_drift_pct"],
        "mismatched": sum(r["mismatched"] for r in crashes),
        "integrity": "; ".join(f"{r['backend']}: {r['integrity']}" for r in crashes),
        "crash_passed": all(r["passed"] and r["acknowledged"] > 0 for r in crashes),
        "crash_clients_gave_up": sum(r["clients_gave_up"] for r in crashes),
        "fuzz_failed_cases": sum(r["failed_cases"] for r in fuzzed),
        "deletion_checks": erasure["deletion_checks"],
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    details = {"crash": crashes, "erasure": erasure, "soak": soaked,
               "fuzz": [r for r in fuzzed if r["failed_cases"]]}  # fmt: skip
    return figures, details


def verdicts(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per figure: its value, its goal and whether it meets it."""
    rows = []
    for name, value in figures.items():
        goal, ok = "", ""
        if name in MUST_BE_ZERO:
            goal, ok = "0", value == 0
        elif name == "crash_passed":
            goal, ok = "True", value
        elif name == "integrity":
            goal, ok = "ok", all(part.endswith(": ok") for part in value.split("; "))
        elif name == "deletion_checks_passed":
            goal, ok = f"{figures['deletion_checks']}", value == figures["deletion_checks"] > 0
        elif name == "soak_mem_growth_pct":
            goal, ok = f"<= {MEM_GROWTH_GOAL_PCT:g}", value <= MEM_GROWTH_GOAL_PCT
        elif name == "soak_p99_drift_pct":
            goal, ok = f"<= {P99_DRIFT_GOAL_PCT:g}", value <= P99_DRIFT_GOAL_PCT
        rows.append({"figure": name, "value": value, "goal": goal,
                     "met": "" if ok == "" else ("yes" if ok else "NO")})  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--short", action="store_true",
                        help="the CI sizes: 10 kills (SQLite), 200 cases per operation, "
                             "5 erased users, about a minute of soak (the rest is ignored)")  # fmt: skip
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs per backend")
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"],
                        default=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--examples", type=int, default=2000, help="fuzz cases per operation")
    parser.add_argument("--erase-users", type=int, default=20)
    parser.add_argument("--soak-minutes", type=float, default=30.0)
    parser.add_argument("--soak-from", type=Path, help="a `soak.py --json` report to take instead")
    parser.add_argument("--crash-from", type=Path, help="a `crash.py --json` report to take instead")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sizes = SHORT if args.short else Sizes(
        kills=args.kills, backends=tuple(args.backends), max_uptime=1.0, max_events=200_000,
        examples=args.examples, erase_users=args.erase_users,
        soak=SoakPlan(minutes=args.soak_minutes, seed=args.seed),
    )  # fmt: skip
    load_before = round(os.getloadavg()[0], 2)
    figures, details = run(
        sizes,
        args.seed,
        soak_from(args.soak_from) if args.soak_from else None,
        crash_from(args.crash_from) if args.crash_from else None,
    )
    rows = verdicts(figures)
    soak_shop = details["soak"]["shop"]
    protocol = {
        "benchmark": "reliability (issue 7 acceptance)",
        "sizes": (f"crash rows from {args.crash_from}" if args.crash_from else
                  f"{sizes.kills} kills per backend on {list(sizes.backends)}")
        + f"; {sizes.examples} "
        f"fuzz cases per operation; {sizes.erase_users} erased users; "
        + (f"soak from {args.soak_from}" if args.soak_from else
           f"soak {sizes.soak.minutes:g} min at {sizes.soak.share:.0%} of the measured maximum"),
        "methods": "see benchmarks/crash.py, fuzz.py, soak.py and this script's docstring",
        "data": "crash: events made by the clients; erasure and fuzz: generate_shop(80, 40, "
        f"days=20, seed={args.seed}); soak: fingerprint {soak_shop['data_fingerprint']}",
        "seed": args.seed,
        "soak": details["soak"]["summary"],
        "peak_mem_mb": peak_rss_mb(),
        "load_average_1m_before": load_before,
        "machine": machine(),
    }
    print_report("Tailor reliability", protocol, rows, ["figure", "value", "goal", "met"])
    for row in details["fuzz"]:
        print(f"\n{row['operation']}: {row['failed_cases']} failed cases; {row['examples'][:1]}")
    if args.json:
        args.json.write_text(json.dumps({**figures, "protocol": protocol, "rows": rows,
                                         "details": details}, indent=1, ensure_ascii=False,
                                        default=str), encoding="utf-8")  # fmt: skip
    failed = [row["figure"] for row in rows if row["figure"] in MUSTS and row["met"] != "yes"]
    raise SystemExit(f"failed: {', '.join(failed)}" if failed else 0)


if __name__ == "__main__":
    main()
