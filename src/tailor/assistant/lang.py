"""Which language a shopper wrote in: Chinese when Han characters outnumber Latin words."""

from __future__ import annotations

import re

LANGUAGES = ("zh", "en")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")


def detect_lang(text: str) -> str:
    """ "zh" or "en": a mixed question ("这个 phone case 多少钱") counts Han characters against
    Latin words, so a Chinese question quoting an English product name stays Chinese."""
    han = len(_HAN.findall(text))
    return "zh" if han and han >= len(_LATIN_WORD.findall(text)) else "en"
