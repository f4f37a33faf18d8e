"""The catalogues: the same keys and placeholders in zh and en, and every word a page shows comes
from them (no text written into a template)."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from tailor.console.i18n import LANGUAGES, Words, catalogue

TEMPLATES = Path(__file__).parents[2] / "src" / "tailor" / "console" / "templates"
SOURCES = Path(__file__).parents[2] / "src" / "tailor" / "console"
LITERAL_KEY = re.compile(r"""\bt\(\s*['"]([a-z0-9_]+)['"]\s*[,)]""")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
TAG = re.compile(r"<[^>]*>", re.DOTALL)
ALLOWED_TEXT = {"Tailor", "tlr_…", "u42", "i7", "#", "·", "×"}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_is_in_both_catalogues_with_the_same_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), f"only zh: {set(zh) - set(en)}; only en: {set(en) - set(zh)}"
    for key in en:
        assert placeholders(zh[key]) == placeholders(en[key]), key
        assert zh[key].strip() and en[key].strip(), key


def test_chinese_catalogue_is_chinese():
    """Every zh entry that is more than a name or a number has Chinese characters in it."""
    zh, en = catalogue("zh"), catalogue("en")
    for key, value in zh.items():
        words = re.sub(
            r"`[^`]*`|\{[^}]*\}|@K?|[A-Z]{2,}|A/B|Tailor|Transformer|App|English|event_id",
            "",
            value,
        )
        if re.search(r"[A-Za-z]", words):
            pytest.fail(f"zh[{key!r}] = {value!r} has Latin words")
        if value.lower() != en[key].lower() and key != "switch_language":
            assert re.search(r"[\u4e00-\u9fff]", value), key


def test_every_key_used_in_code_and_templates_exists():
    used = set()
    for path in [*TEMPLATES.glob("*.html"), SOURCES / "views.py", SOURCES / "routes.py"]:
        used |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "no t('...') calls found"
    for lang in LANGUAGES:
        assert used <= set(catalogue(lang)), f"{lang} misses {used - set(catalogue(lang))}"


@pytest.mark.parametrize("template", sorted(p.name for p in TEMPLATES.glob("*.html")))
def test_templates_hold_no_words_of_their_own(template):
    source = (TEMPLATES / template).read_text(encoding="utf-8")
    source = re.sub(
        r"<script\b.*?</script>|<style\b.*?</style>|<code>.*?</code>", "", source, flags=re.DOTALL
    )
    text = TAG.sub(" ", JINJA.sub(" ", source))
    words = {w for w in re.findall(r"[^\s]+", text) if re.search(r"[A-Za-z\u4e00-\u9fff]", w)}
    assert words <= ALLOWED_TEXT, f"{template}: {sorted(words - ALLOWED_TEXT)}"


def test_words_fill_placeholders_and_name_metrics_and_models():
    en, zh = Words("en"), Words("zh")
    assert en("days", n=3) == "3 days" and zh("days", n=3) == "3 天"
    assert en.metric("ndcg_at_10") == "NDCG@10" and zh.metric("recall_at_5") == "召回率@5"
    assert en.metric("unknown_at_3") == "unknown_at_3"
    assert zh.model("popular") == "热门" and en.model("custom") == "custom"
    assert en.other() == "zh" and zh.other() == "en"
    with pytest.raises(KeyError):
        en("no_such_key")
