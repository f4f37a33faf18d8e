"""Which later capabilities have landed, found by looking for them rather than importing them.

Each capability is an engine method. A page asks `capability(engine, name)`: the bound method when
the engine has it, else None, and the page then says plainly that the capability has not landed.
So a page lights up as soon as the method exists, with no change here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

from tailor.engine import Engine

# capability -> the engine method names that provide it, first found wins
CAPABILITIES: dict[str, tuple[str, ...]] = {
    "profile": ("profile",),
    "purchase": ("purchase_probability",),
    "push_history": ("push_history",),
    "push_plan": ("plan_push", "push_plan"),
    "bought_together": ("bought_together",),
    "audience": ("audience",),
    "experiments": ("online_report", "experiment_report"),
}


def capability(engine: Engine, name: str) -> Callable[..., Any] | None:
    for method in CAPABILITIES[name]:
        found = getattr(engine, method, None)
        if callable(found):
            return found
    return None


def plain(value: Any) -> Any:
    """A result as plain data (dicts, lists, scalars) for generic display."""
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if hasattr(value, "model_dump"):
        return plain(value.model_dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
