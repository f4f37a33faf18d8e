"""Which later capabilities have landed, found by looking for them rather than importing them.

Each probe looks at the engine (or, for a module-level capability, asks whether the module exists)
and returns a callable answering in the page's language, or None. A page then says plainly that
the capability has not landed; it lights up as soon as the method or module exists.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from typing import Any

from tailor.engine import Engine

SCENARIO_K = 10
AUDIENCE_K = 10
Probe = Callable[[Engine, str], Callable[..., Any] | None]


def _method(owner: Any, name: str) -> Callable[..., Any] | None:
    found = getattr(owner, name, None) if owner is not None else None
    return found if callable(found) else None


def _profile(engine: Engine, lang: str) -> Callable[..., Any] | None:
    profile = _method(getattr(engine, "profiles", None), "profile")
    return None if profile is None else lambda user_id: profile(user_id, lang)


def _scenario(name: str) -> Probe:
    """A scenario of `engine.scenarios` answering (item or user id) -> its recommendations."""

    def probe(engine: Engine, lang: str) -> Callable[..., Any] | None:
        method = _method(getattr(engine, "scenarios", None), name)
        if method is None:
            return None
        return lambda anchor: method(anchor, SCENARIO_K, lang=lang).items

    return probe


def _engine_method(*names: str) -> Probe:
    def probe(engine: Engine, lang: str) -> Callable[..., Any] | None:
        return next((m for n in names if (m := _method(engine, n)) is not None), None)

    return probe


def _audience(engine: Engine, lang: str) -> Callable[..., Any] | None:
    audience = _method(getattr(engine, "campaigns", None), "audience")
    return None if audience is None else lambda item_id: audience(item_id, AUDIENCE_K)


def _online_report(engine: Engine, lang: str) -> Callable[..., Any] | None:
    if importlib.util.find_spec("tailor.online") is None:
        return None
    if importlib.util.find_spec("tailor.online.report") is None:
        return None
    report = importlib.import_module("tailor.online.report").online_report
    return lambda: report(engine.store)


CAPABILITIES: dict[str, Probe] = {
    "profile": _profile,
    "purchase": _engine_method("purchase_probability"),
    "push_plan": _engine_method("plan_push", "push_plan"),
    "audience": _audience,
    "bought_together": _scenario("bought_together"),
    "continue_shopping": _scenario("continue_shopping"),
    "experiments": _online_report,
}


def capability(engine: Engine, name: str, lang: str = "en") -> Callable[..., Any] | None:
    return CAPABILITIES[name](engine, lang)


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
