"""schemathesis against the app's own OpenAPI schema, in process (ASGI), with an admin key.

Every operation the schema lists at run time is fuzzed with valid and invalid input under
schemathesis' default checks: no 5xx; status codes, content types, headers and bodies as the
schema documents them; invalid input refused, valid input accepted. The longer run is
`benchmarks/fuzz.py`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import admin_key, settings_in
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tailor.engine import Engine
from tailor.service import create_app
from tailor.service.schemas import CONTEXT_FIELDS
from tailor.settings import Role, load_settings

EXAMPLES_PER_OPERATION = 200
# Far above what the fuzzer sends, so a 429 never stands in for the answer under test.
UNLIMITED = {role.value: {"per_second": 1e9, "burst": 10**9} for role in Role}

pytestmark = pytest.mark.slow


def operation_labels() -> list[str]:
    """Every operation in the schema as the code stands (other routes may join at any time)."""
    unopened = load_settings(store_url="sqlite:///unused.db", artifacts_dir="unused")
    api = schemathesis.openapi.from_dict(create_app(unopened).openapi())
    return [result.ok().label for result in api.get_all_operations()]


@pytest.fixture(scope="module")
def api_schema(
    trained_folder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, dict[str, str]]]:
    """The schema of the app serving a copy of the trained shop, and an admin key's header."""
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(trained_folder, folder, dirs_exist_ok=True)
    config = settings_in(folder, rate_limits=UNLIMITED)
    headers = {"Authorization": f"Bearer {admin_key(config)}"}
    with Engine(config) as engine:
        engine.load()
        yield schemathesis.openapi.from_asgi("/openapi.json", create_app(config, engine)), headers


@pytest.mark.parametrize("label", operation_labels())
def test_every_operation_holds_to_its_schema(label: str, api_schema) -> None:
    schema, headers = api_schema
    method, path = label.split(" ", 1)
    operation = schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        context_checked = CONTEXT_FIELDS in operation.definition.raw
        excluded = [positive_data_acceptance] if context_checked else []
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    fuzz()
