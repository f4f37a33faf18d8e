"""The shop's FAQ: read from CSV or Markdown, checked entry by entry, stored by `tailor import faq`.

CSV: a header with `faq_id`, `question`, `answer` and optionally `lang` (zh or en; detected from
the question when absent or blank) and `topic`.

Markdown: a `# Topic` heading sets the topic of the entries under it; each entry is a
`## Question {#faq-id}` heading followed by its answer:

    # Returns
    ## How long do I have to return an item? {#return-window.en}
    Within 30 days of delivery ...

A bad entry is rejected with its line and field; the good ones are stored all the same, and
entries stored before are kept (an entry with the same id is replaced).
"""

from __future__ import annotations

import csv
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from tailor.assistant.lang import LANGUAGES, detect_lang
from tailor.errors import InvalidInputError
from tailor.store.base import FaqEntry, Store

REQUIRED_COLUMNS = ("faq_id", "question", "answer")
MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5_000
FORMATS = ("csv", "md")
_ENTRY_HEADING = re.compile(r"^##\s+(?P<question>.*?)\s*(\{#(?P<faq_id>[^}\s]*)\})?\s*$")
_TOPIC_HEADING = re.compile(r"^#\s+(?P<topic>.+?)\s*$")


@dataclass(frozen=True)
class FaqRejection:
    row: int  # the line the entry starts on, from 1
    field: str
    reason: str


@dataclass
class FaqImport:
    """What an import kept (`accepted` entries, stored) and refused (`rejections`)."""

    accepted: list[FaqEntry] = field(default_factory=list)
    rejections: list[FaqRejection] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.accepted):,} FAQ entries stored, {len(self.rejections):,} rejected"


@dataclass(frozen=True)
class _Draft:
    line: int
    faq_id: str
    question: str
    answer: str
    lang: str
    topic: str | None


def read_faq(path: str | Path, fmt: str | None = None) -> FaqImport:
    """Entries of a CSV or Markdown file (by extension unless `fmt`), checked, not yet stored."""
    path = Path(path)
    fmt = fmt or ("md" if path.suffix.lower() in (".md", ".markdown") else path.suffix[1:].lower())
    if fmt not in FORMATS:
        raise InvalidInputError(
            f"{path.name}: a FAQ file is .csv or .md (Markdown), not {fmt or 'no extension'!r}",
            field="format",
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{path.name}: not UTF-8 text ({exc.reason})", field="file"
        ) from None
    drafts = _csv_drafts(text, path.name) if fmt == "csv" else _markdown_drafts(text)
    return _checked(drafts)


def import_faq(store: Store, path: str | Path, fmt: str | None = None) -> FaqImport:
    """Read, check and store a FAQ file's good entries; the rejected ones are reported."""
    result = read_faq(path, fmt)
    store.upsert_faq(result.accepted)
    return result


def _csv_drafts(text: str, name: str) -> list[_Draft]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise InvalidInputError(
            f"{name}: the header lacks {', '.join(missing)} (found: {', '.join(header) or 'none'})",
            field=missing[0],
        )
    reader.fieldnames = header
    drafts, line = [], reader.line_num + 1
    for row in reader:
        cell = {key: (value or "").strip() for key, value in row.items() if key is not None}
        question = cell.get("question", "")
        drafts.append(
            _Draft(
                line,
                cell.get("faq_id", ""),
                question,
                cell.get("answer", ""),
                cell.get("lang", "").lower() or detect_lang(question),
                cell.get("topic") or None,
            )
        )
        line = reader.line_num + 1
    return drafts


def _markdown_drafts(text: str) -> list[_Draft]:
    drafts: list[_Draft] = []
    topic: str | None = None
    heading: tuple[int, re.Match[str]] | None = None
    body: list[str] = []

    def close() -> None:
        if heading is not None:
            line, match = heading
            question = match["question"]
            drafts.append(
                _Draft(
                    line,
                    match["faq_id"] or "",
                    question,
                    "\n".join(body).strip(),
                    detect_lang(question),
                    topic,
                )
            )

    for number, raw in enumerate(text.splitlines(), start=1):
        entry, section = _ENTRY_HEADING.match(raw), _TOPIC_HEADING.match(raw)
        if entry or section:
            close()
            heading, body = (number, entry) if entry else None, []
            if section:
                topic = section["topic"]
        elif heading is not None:
            body.append(raw)
    close()
    return drafts


def _checked(drafts: list[_Draft]) -> FaqImport:
    result = FaqImport()
    first_line: dict[str, int] = {}
    now = time.time_ns() // 1_000_000
    for draft in drafts:
        problem = _problem(draft, first_line.get(draft.faq_id))
        if problem is not None:
            result.rejections.append(FaqRejection(draft.line, *problem))
            continue
        first_line[draft.faq_id] = draft.line
        result.accepted.append(
            FaqEntry(draft.faq_id, draft.question, draft.answer, draft.lang, draft.topic, now)
        )
    return result


def _problem(draft: _Draft, seen_at: int | None) -> tuple[str, str] | None:
    """(field, reason) of the draft's first problem, or None when it is a good entry."""
    if not draft.faq_id:
        return "faq_id", "missing: give every entry an id (Markdown: `## Question {#the-id}`)"
    if seen_at is not None:
        return "faq_id", f"{draft.faq_id!r} is already used by the entry on line {seen_at}"
    if not draft.question:
        return "question", "empty"
    if len(draft.question) > MAX_QUESTION_CHARS:
        return "question", f"longer than {MAX_QUESTION_CHARS} characters"
    if not draft.answer:
        return "answer", "empty"
    if len(draft.answer) > MAX_ANSWER_CHARS:
        return "answer", f"longer than {MAX_ANSWER_CHARS:,} characters"
    if draft.lang not in LANGUAGES:
        return "lang", f"must be zh or en, not {draft.lang!r}"
    return None
