"""Read CSV, JSONL and Parquet files in chunks and import them through the validators.

A column mapping `{"canonical": "source column"}` renames the file's columns; a canonical column
that is not mapped is taken from a source column of the same name when there is one, and every
other source column is dropped. CSV cells are read as text (ids keep leading zeros) and parsed by
the validator (`parse_strings=True`); JSONL and Parquet keep their own types, so a string price
there is a wrong type, as it is over HTTP. Gzipped CSV and JSONL (`.csv.gz`, `.jsonl.gz`) work too.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any, Literal

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tailor.errors import InvalidInputError
from tailor.ingest.validate import Records
from tailor.ingest.write_log import log_write
from tailor.ingest.writer import ImportReport, Table, write_batch
from tailor.settings import IngestSettings
from tailor.store.base import Store
from tailor.types import EVENT_COLUMNS, ITEM_COLUMNS, USER_COLUMNS

Format = Literal["csv", "tsv", "jsonl", "parquet"]
COLUMNS: dict[str, tuple[str, ...]] = {
    "events": EVENT_COLUMNS,
    "items": ITEM_COLUMNS,
    "users": USER_COLUMNS,
}
_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def detect_format(path: str | Path) -> Format:
    """The format named by the file's extension (a trailing `.gz` is skipped)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise InvalidInputError(
        f"cannot tell the format of {path}: use one of {', '.join(sorted(_SUFFIXES))} or pass fmt"
    )


def source_columns(
    table: Table, available: list[str], mapping: Mapping[str, str] | None
) -> dict[str, str]:
    """{source column: canonical column} for the columns to read; raises on a bad mapping."""
    canonical = COLUMNS[table]
    mapping = dict(mapping or {})
    for target, source in mapping.items():
        if target not in canonical:
            raise InvalidInputError(
                f"mapping names {target!r}, not a column of {table}; columns: {', '.join(canonical)}",
                field=target,
            )
        if source not in available:
            raise InvalidInputError(
                f"mapping reads {source!r} for {target!r}, but the file has no such column; "
                f"it has: {', '.join(available)}",
                field=target,
            )
    chosen = {source: target for target, source in mapping.items()}
    for name in canonical:
        if name not in mapping and name in available and name not in chosen:
            chosen[name] = name
    return chosen


@contextmanager
def _readable(path: Path) -> Iterator[None]:
    """A file the parser cannot read is the user's input error, named with the parser's reason."""
    try:
        yield
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc


def _csv_chunks(
    path: Path, fmt: Format, table: Table, mapping: Mapping[str, str] | None, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    delimiter = "\t" if fmt == "tsv" else ","
    parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
    with _readable(path), pa.input_stream(str(path), compression="detect") as stream:
        header = pacsv.open_csv(stream, parse_options=parse).schema.names
    columns = source_columns(table, header, mapping)
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in columns},
        include_columns=list(columns),
        strings_can_be_null=True,
    )
    with _readable(path), pa.input_stream(str(path), compression="detect") as stream:
        reader = pacsv.open_csv(stream, parse_options=parse, convert_options=convert)
        yield from _rebatch((b.to_pandas() for b in reader), chunk_rows, columns)


def _json_record(line: bytes) -> Any:
    """The parsed line; an unparsable line stays text, which the validator rejects as a record."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return line.decode("utf-8", errors="replace")


def _renamed(records: list[Any], columns: dict[str, str]) -> list[Any]:
    """Records with canonical keys only; a record already in that shape is passed as it is."""
    kept = {source for source, target in columns.items() if source == target}
    return [
        {columns[k]: v for k, v in r.items() if k in columns}
        if isinstance(r, dict) and not r.keys() <= kept
        else r
        for r in records
    ]


def _jsonl_chunks(
    path: Path, table: Table, mapping: Mapping[str, str] | None, chunk_rows: int
) -> Iterator[list[Any]]:
    """Lists of records (the same path as HTTP input: a JSON null and a NaN stay distinct)."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    columns: dict[str, str] | None = None
    with _readable(path), opener(path, "rb") as handle:
        while lines := list(islice(handle, chunk_rows)):
            records = [_json_record(line) for line in lines if line.strip()]
            if columns is None:  # the mapping is checked against the keys of the first chunk
                keys = sorted(set().union(*(r for r in records if isinstance(r, dict))))
                columns = source_columns(table, keys, mapping)
                for name in COLUMNS[table]:  # a key absent from the first chunk may come later
                    if name not in columns.values() and name not in (mapping or {}):
                        columns[name] = name
            yield _renamed(records, columns)


def _parquet_chunks(
    path: Path, table: Table, mapping: Mapping[str, str] | None, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    with _readable(path):
        parquet = pq.ParquetFile(path)
        columns = source_columns(table, parquet.schema_arrow.names, mapping)
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=list(columns)):
            yield batch.to_pandas().rename(columns=columns)


def _rebatch(
    frames: Iterator[pd.DataFrame], chunk_rows: int, columns: dict[str, str]
) -> Iterator[pd.DataFrame]:
    """Join the reader's blocks into chunks of about `chunk_rows` rows, renamed to canonical names."""
    pending: list[pd.DataFrame] = []
    size = 0
    for frame in frames:
        pending.append(frame)
        size += len(frame)
        if size >= chunk_rows:
            yield pd.concat(pending, ignore_index=True).rename(columns=columns)
            pending, size = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True).rename(columns=columns)


def read_chunks(
    path: str | Path,
    table: Table,
    *,
    mapping: Mapping[str, str] | None = None,
    fmt: Format | None = None,
    chunk_rows: int = 200_000,
) -> Iterator[Records]:
    """The file in chunks with canonical column names (raw values, not yet validated): frames for
    CSV and Parquet, lists of records for JSONL."""
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"file not found: {path}")
    fmt = fmt or detect_format(path)
    if fmt in ("csv", "tsv"):
        return _csv_chunks(path, fmt, table, mapping, chunk_rows)
    if fmt == "jsonl":
        return _jsonl_chunks(path, table, mapping, chunk_rows)
    if fmt == "parquet":
        return _parquet_chunks(path, table, mapping, chunk_rows)
    raise InvalidInputError(f"unknown format {fmt!r}; expected csv, tsv, jsonl or parquet")


def import_file(
    store: Store,
    table: Table,
    path: str | Path,
    *,
    settings: IngestSettings,
    mapping: Mapping[str, str] | None = None,
    fmt: Format | None = None,
    chunk_rows: int = 200_000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Validate and write a file chunk by chunk; `progress` gets the number of records read so far."""
    started = time.perf_counter()
    fmt = fmt or detect_format(path)
    report = ImportReport(table)
    for chunk in read_chunks(path, table, mapping=mapping, fmt=fmt, chunk_rows=chunk_rows):
        write_batch(
            store,
            table,
            chunk,
            settings,
            report,
            first_row=report.rows_read + 1,
            parse_strings=fmt in ("csv", "tsv"),
        )
        if progress is not None:
            progress(report.rows_read)
    report.seconds = time.perf_counter() - started  # reading included
    log_write(
        store,
        table,
        Path(path).name,
        accepted=report.rows_written,
        duplicates=report.duplicates,
        rejected=report.rows_rejected,
        rejections=report.rejections,
    )
    return report
