import gzip
import json

import pandas as pd
import pytest

from tailor.errors import InvalidInputError
from tailor.ingest.files import detect_format, import_file, read_chunks
from tailor.settings import IngestSettings
from tailor.store import open_store

SETTINGS = IngestSettings()
MAPPING = {"user_id": "uid", "item_id": "sku", "kind": "action", "ts": "time"}


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


def write_events_csv(path):
    path.write_text(
        "uid,sku,action,time,extra\n"
        "001,i1,view,1700000000,x\n"
        "002,,view,1700000001,y\n"  # record 2: no item
        "003,面霜,purchase,2026-01-01T00:00:00Z,z\n"
        "001,i1,view,1700000000,x\n"  # record 4 repeats record 1
        '004,"i,2",view,not-a-time,w\n',  # record 5: bad ts
        encoding="utf-8",
    )


def test_csv_import_with_mapping_reports_file_rows(tmp_path, store):
    path = tmp_path / "events.csv"
    write_events_csv(path)
    seen = []
    report = import_file(
        store,
        "events",
        path,
        settings=SETTINGS,
        mapping=MAPPING,
        chunk_rows=2,
        progress=seen.append,
    )
    assert (report.rows_read, report.rows_written, report.rows_rejected, report.duplicates) == (
        5,
        2,
        2,
        1,
    )
    assert [(r.row, r.field) for r in report.rejections] == [(2, "item_id"), (5, "ts")]
    assert seen[-1] == 5 and seen == sorted(seen)
    stored = store.events().sort_values("user_id")
    assert stored["user_id"].tolist() == ["001", "003"]  # leading zeros kept: CSV cells are text
    assert stored["item_id"].tolist() == ["i1", "面霜"]
    assert stored["ts"].tolist() == [1_700_000_000_000, 1_767_225_600_000]


def test_reimporting_a_file_writes_nothing_new(tmp_path, store):
    path = tmp_path / "events.csv"
    write_events_csv(path)
    import_file(store, "events", path, settings=SETTINGS, mapping=MAPPING)
    again = import_file(store, "events", path, settings=SETTINGS, mapping=MAPPING)
    assert again.rows_written == 0 and again.duplicates == 3
    assert store.counts()["events"] == 2


def test_jsonl_and_gzip(tmp_path, store):
    records = [
        {"user": "u1", "item_id": "i1", "kind": "view", "ts": 1_700_000_000_000, "junk": {"a": 1}},
        {
            "user": "u2",
            "item_id": "i2",
            "kind": "rating",
            "value": 4.5,
            "ts": "2026-01-01T08:00:00+08:00",
        },
        {"user": "u3", "item_id": "i3", "kind": "rating", "value": "high"},
    ]
    text = "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n{not json\n"
    plain, zipped = tmp_path / "e.jsonl", tmp_path / "e.jsonl.gz"
    plain.write_text(text, encoding="utf-8")
    zipped.write_bytes(gzip.compress(text.encode()))
    report = import_file(store, "events", plain, settings=SETTINGS, mapping={"user_id": "user"})
    assert (report.rows_written, report.rows_rejected) == (2, 2)
    # JSON keeps its types, so a string value is wrong; an unparsable line is a bad record
    assert [(r.row, r.field) for r in report.rejections][:2] == [(3, "value"), (4, "record")]
    zipped_report = import_file(
        store, "events", zipped, settings=SETTINGS, mapping={"user_id": "user"}
    )
    assert zipped_report.duplicates == 2 and store.counts()["events"] == 2


def test_parquet_items(tmp_path, store):
    frame = pd.DataFrame(
        {
            "sku": ["a", "b", "c"],
            "name": ["保湿面霜 Face cream", "Serum 精华", "Bad"],
            "category": ["美妆/护肤", "美妆/护肤", None],
            "price": [99.0, 199.5, -3.0],
            "stock": [3, 0, 1],
            "tags": [["new"], [], ["x"]],
            "created_at": pd.to_datetime(["2026-01-01", "2025-06-01", "2025-01-01"], utc=True),
            "hidden": [False, True, False],
        }
    )
    path = tmp_path / "items.parquet"
    frame.to_parquet(path)
    report = import_file(
        store, "items", path, settings=SETTINGS, mapping={"item_id": "sku", "title": "name"}
    )
    assert (report.rows_written, report.rows_rejected) == (2, 1)
    assert report.rejections[0].row == 3 and report.rejections[0].field == "price"
    items = store.items().set_index("item_id")
    assert items.loc["a", "title"] == "保湿面霜 Face cream" and items.loc["a", "tags"] == ["new"]
    assert bool(items.loc["b", "hidden"]) and items.loc["a", "created_at"] == 1_767_225_600_000


def test_csv_items_parse_lists_and_objects(tmp_path, store):
    path = tmp_path / "items.csv"
    path.write_text(
        "item_id,title,price,stock,tags,attributes,created_at\n"
        'a,Cream,9.5,2,new|sale,"{""size"": ""50ml""}",1700000000\n',
        encoding="utf-8",
    )
    report = import_file(store, "items", path, settings=SETTINGS)
    assert report.rows_written == 1, report.rejections
    item = store.items().iloc[0]
    assert item["tags"] == ["new", "sale"] and item["attributes"] == {"size": "50ml"}


def test_bad_mapping_and_format_are_explained(tmp_path, store):
    path = tmp_path / "events.csv"
    write_events_csv(path)
    with pytest.raises(InvalidInputError, match="no such column.*uid, sku"):
        list(read_chunks(path, "events", mapping={"user_id": "customer"}))
    with pytest.raises(InvalidInputError, match="not a column of events"):
        list(read_chunks(path, "events", mapping={"colour": "uid"}))
    with pytest.raises(InvalidInputError, match="format"):
        detect_format(tmp_path / "events.xlsx")
    assert detect_format("x.CSV.gz") == "csv" and detect_format("x.ndjson") == "jsonl"


def test_extra_columns_are_dropped_and_unmapped_columns_keep_their_names(tmp_path):
    path = tmp_path / "users.csv"
    path.write_text("user_id,created_at,favourite_colour\nu1,1700000000,red\n", encoding="utf-8")
    (chunk,) = list(read_chunks(path, "users"))
    assert list(chunk.columns) == ["user_id", "created_at"]


def test_unreadable_files_are_input_errors(tmp_path, store):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("user_id,item_id,kind\nu1,i1,view\nu2,i2,view,extra\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot read .*ragged.csv"):
        import_file(store, "events", ragged, settings=SETTINGS)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InvalidInputError, match="cannot read"):
        import_file(store, "items", broken, settings=SETTINGS)


def test_chinese_and_emoji_ids_round_trip_through_the_store(tmp_path, store):
    path = tmp_path / "events.jsonl"
    rows = [
        {"user_id": "用户😀", "item_id": "商品🌸", "kind": "search", "query": "面霜 🧴"},
        {"user_id": "用户😀", "item_id": "商品🌸", "kind": "view", "ts": 1_700_000_000},
    ]
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    assert import_file(store, "events", path, settings=SETTINGS).rows_written == 2
    stored = store.events(user_ids=["用户😀"])
    assert set(stored["item_id"]) == {"商品🌸"} and "面霜 🧴" in set(stored["query"].dropna())
