"""The console's words: one catalogue per language (`i18n/<lang>.json`), the same keys in each.

A page is rendered from one catalogue only, so nothing of another language leaks into it. Values
may hold `{name}` placeholders, filled by `Words.__call__`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import Request

from tailor.rank.explain import language

LANGUAGES = ("zh", "en")
LANG_COOKIE = "tailor_console_lang"
FOLDER = Path(__file__).with_name("i18n")


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((FOLDER / f"{lang}.json").read_text(encoding="utf-8"))


class Words:
    """The catalogue of one language, called as `t("key", name=value)` in templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.entries = catalogue(lang)

    def __call__(self, key: str, /, **values: object) -> str:
        text = self.entries[key]  # a missing key is a bug: KeyError names it
        return text.format(**values) if values else text

    def metric(self, name: str) -> str:
        """A metric name such as `ndcg_at_10` in words (NDCG@10); unknown names as they are."""
        base, _, k = name.rpartition("_at_")
        key = f"metric_{base}"
        return self(key, k=k) if key in self.entries else name

    def model(self, name: str) -> str:
        key = f"model_{name}"
        return self(key) if key in self.entries else name

    def scenario(self, name: str) -> str:
        key = f"scenario_{name}"
        return self(key) if key in self.entries else name

    def other(self) -> str:
        return next(lang for lang in LANGUAGES if lang != self.lang)


def request_language(request: Request) -> str:
    """The language chosen with the switch (a cookie), else the browser's, else English."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return language(None, request.headers.get("accept-language"))
