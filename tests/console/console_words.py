"""Finding words of the other language left on a console page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tailor.console.i18n import LANGUAGES, catalogue

PLACEHOLDER = re.compile(r"\{[^}]*\}")
MIN_FRAGMENT = {"en": 8, "zh": 4}  # long enough that shop data cannot contain it by chance


def fragments(lang: str) -> set[str]:
    """Pieces of `lang`'s catalogue (between placeholders) that the other language never uses."""
    other = next(x for x in LANGUAGES if x != lang)
    theirs = catalogue(other)
    pieces = set()
    for key, value in catalogue(lang).items():
        if value == theirs[key]:
            continue
        for piece in PLACEHOLDER.split(value):
            piece = piece.strip(" .,:;!?()“”、，。：；（）…")
            if len(piece) >= MIN_FRAGMENT[lang] and piece not in " ".join(theirs.values()):
                pieces.add(piece)
    return pieces


def leftovers(text: str, lang: str) -> list[str]:
    """Catalogue words of the language other than `lang` found in a page's text."""
    other = next(x for x in LANGUAGES if x != lang)
    return sorted(piece for piece in fragments(other) if piece in text)


class _Text(HTMLParser):
    """Visible text of a page, without scripts, code and the language switch (which names the
    other language on purpose)."""

    SKIP = frozenset({"script", "style", "code", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP or dict(attrs).get("id") == "lang-switch":
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)
