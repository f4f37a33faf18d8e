"""FAQ files: CSV and Markdown read into entries; bad entries named by line and field, good ones
stored all the same; `tailor import faq` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailor.assistant import import_faq, read_faq
from tailor.cli import app
from tailor.errors import InvalidInputError
from tailor.store import open_store

CSV_TEXT = """faq_id,question,answer,lang,topic
ship.en,How much is shipping?,Free from 99 yuan.,,Delivery
ship.zh,运费多少？,满99元包邮。,zh,配送
,Missing id?,An answer.,en,
bad.lang,Which language?,This one.,fr,
ship.en,Shipping again?,Repeated id.,en,
no.answer,Where is the answer?,,en,
"""

MARKDOWN_TEXT = """# 退货
## 多少天内可以退货？ {#window.zh}
签收后7天内。

## How long is the return window? {#window.en}
Seven days from delivery.
Unused items only.

## 没有编号的问题
有答案。

# Delivery
## Empty answer {#empty.en}

## Do you ship abroad? {#abroad.en}
Not yet.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_entries_are_checked_row_by_row(tmp_path):
    result = read_faq(write(tmp_path, "faq.csv", CSV_TEXT))
    assert [(e.faq_id, e.lang, e.topic) for e in result.accepted] == [
        ("ship.en", "en", "Delivery"),
        ("ship.zh", "zh", "配送"),
    ]
    assert [(r.row, r.field) for r in result.rejections] == [
        (4, "faq_id"),
        (5, "lang"),
        (6, "faq_id"),
        (7, "answer"),
    ]
    assert "line 2" in result.rejections[2].reason


def test_markdown_entries_take_their_topic_id_and_detected_language(tmp_path):
    result = read_faq(write(tmp_path, "faq.md", MARKDOWN_TEXT))
    entries = {e.faq_id: e for e in result.accepted}
    assert list(entries) == ["window.zh", "window.en", "abroad.en"]
    assert (entries["window.zh"].lang, entries["window.zh"].topic) == ("zh", "退货")
    assert entries["window.en"].answer == "Seven days from delivery.\nUnused items only."
    assert entries["abroad.en"].topic == "Delivery"
    assert [(r.row, r.field) for r in result.rejections] == [(9, "faq_id"), (13, "answer")]


def test_bad_entries_never_lose_the_good_ones_or_earlier_imports(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/s.db") as store:
        import_faq(store, write(tmp_path, "first.md", MARKDOWN_TEXT))
        result = import_faq(store, write(tmp_path, "second.csv", CSV_TEXT))
        stored = {e.faq_id for e in store.faq()}
    assert len(result.rejections) == 4
    assert stored == {"window.zh", "window.en", "abroad.en", "ship.en", "ship.zh"}


def test_a_file_without_a_required_column_names_it(tmp_path):
    path = write(tmp_path, "faq.csv", "faq_id,question\nx,Why?\n")
    with pytest.raises(InvalidInputError) as caught:
        read_faq(path)
    assert caught.value.field == "answer"


def test_an_unknown_file_type_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="csv or .md"):
        read_faq(write(tmp_path, "faq.txt", "hello"))


def test_cli_imports_faq_and_lists_rejections(tmp_path):
    config = write(tmp_path, "tailor.toml", f'store_url = "sqlite:///{tmp_path}/t.db"\n')
    faq = write(tmp_path, "faq.csv", CSV_TEXT)
    result = CliRunner().invoke(app, ["--config", str(config), "import", "faq", str(faq)])
    assert result.exit_code == 0, result.output
    assert "2 FAQ entries stored, 4 rejected" in result.output
    assert "lang" in result.output and "must be zh or en" in result.output
    with open_store(f"sqlite:///{tmp_path}/t.db") as store:
        assert {e.faq_id for e in store.faq()} == {"ship.en", "ship.zh"}
