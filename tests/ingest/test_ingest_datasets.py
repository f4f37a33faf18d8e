import json

import pytest

from tailor.errors import InvalidInputError
from tailor.ingest.datasets import (
    SEQUENCE_EPOCH_MS,
    amazon_frames,
    import_dataset,
    movielens_frames,
    otto_frames,
    read_item_text,
    read_sequences,
    taobao_frames,
)
from tailor.settings import IngestSettings
from tailor.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path}/t.db") as s:
        yield s


@pytest.fixture
def amazon(tmp_path):
    (tmp_path / "Shop.txt").write_text("1 1 2 3\n2 3 1\n\n3 2\n", encoding="utf-8")
    rows = [
        {
            "item_id": 1,
            "asin": "B01",
            "title": "OPI Nail Lacquer",
            "attributes": ["OPI", "Makeup", "Nails"],
        },
        {
            "item_id": 2,
            "asin": "B02",
            "title": "L&#39;Oreal Cream",
            "attributes": ["L&#39;Oreal Paris", "Skin Care", "Face"],
        },
        {
            "item_id": 3,
            "asin": "B03",
            "title": "Plain File",
            "attributes": ["Unknown", "Makeup", "Nails"],
        },
        {
            "item_id": 4,
            "asin": "B04",
            "title": "No brand",
            "attributes": ["Skin Care", "Face", "Creams"],
        },
    ]
    (tmp_path / "Shop_item_text.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    return tmp_path / "Shop.txt"


def test_amazon_sequences_and_item_text(amazon):
    assert read_sequences(amazon) == {"1": ["1", "2", "3"], "2": ["3", "1"], "3": ["2"]}
    assert read_item_text(amazon.with_name("Shop_item_text.jsonl"))["2"] == "L'Oreal Cream"
    events, items = amazon_frames(amazon, amazon.with_name("Shop_item_text.jsonl"))
    assert events["kind"].unique().tolist() == ["purchase"]
    first_user = events[events["user_id"] == "1"]
    assert first_user["item_id"].tolist() == ["1", "2", "3"]
    assert first_user["ts"].tolist() == [SEQUENCE_EPOCH_MS + k * 1000 for k in range(3)]
    assert items["brand"].tolist()[:2] == ["OPI", "L'Oreal Paris"]
    assert items["category"].tolist() == [
        "Makeup/Nails",
        "Skin Care/Face",
        "Makeup/Nails",
        "Skin Care/Face/Creams",
    ]
    assert items["brand"].isna().tolist() == [False, False, True, True]
    assert items["attributes"].iloc[0] == {"asin": "B01"}


def test_import_amazon_is_idempotent(amazon, store):
    report = import_dataset(store, "amazon", amazon, IngestSettings())
    assert [p.table for p in report.parts] == ["items", "events"]
    assert report.rows_written == 4 + 6 and report.rows_rejected == 0
    again = import_dataset(store, "amazon", amazon, IngestSettings())
    assert again.parts[1].rows_written == 0 and again.parts[1].duplicates == 6
    assert store.counts() == {"events": 6, "items": 4, "users": 0}


def write_movielens(directory, with_ratings):
    directory.mkdir()
    (directory / "movies.dat").write_bytes(
        "1::Toy Story (1995)::Animation|Children's|Comedy\n2::Amélie (2001)::Comedy|Romance\n".encode(
            "latin-1"
        )
    )
    (directory / "users.dat").write_text(
        "1::F::1::10::48067\n2::M::56::16::70072\n", encoding="latin-1"
    )
    (directory / "ml-1m_sequences.txt").write_text("1 2 1\n2 1\n", encoding="utf-8")
    if with_ratings:
        (directory / "ratings.dat").write_text(
            "1::2::5::978300760\n1::1::3::978302109\n2::1::4::978301968\n", encoding="latin-1"
        )


def test_movielens_from_ratings(tmp_path):
    write_movielens(tmp_path / "ml", with_ratings=True)
    frames = movielens_frames(tmp_path / "ml")
    events = frames["events"]
    assert events["value"].tolist() == [5.0, 3.0, 4.0]
    assert events["ts"].tolist() == [978_300_760_000, 978_302_109_000, 978_301_968_000]
    assert frames["items"]["title"].tolist() == ["Toy Story (1995)", "Amélie (2001)"]
    assert frames["items"]["tags"].iloc[1] == ["Comedy", "Romance"]
    assert frames["users"]["attributes"].iloc[0] == {
        "gender": "F",
        "age": "1",
        "occupation": "10",
        "zip": "48067",
    }


def test_movielens_from_sequences_into_a_store(tmp_path, store):
    write_movielens(tmp_path / "ml", with_ratings=False)
    progress = []
    report = import_dataset(store, "movielens", tmp_path / "ml", IngestSettings(), progress.append)
    assert report.rows_written == 2 + 2 + 3 and progress[-1] == 7
    events = store.events()
    assert events["kind"].unique().tolist() == ["rating"] and events["value"].isna().all()
    assert events[events["user_id"] == "1"]["item_id"].tolist() == ["2", "1"]


def test_taobao_behaviours_map_to_kinds(tmp_path, store):
    path = tmp_path / "UserBehavior.csv"
    path.write_text(
        "1,100,7,pv,1511544070\n1,100,7,fav,1511544071\n1,100,7,cart,1511544072\n"
        "1,100,7,buy,1511544073\n2,200,8,pv,1511544074\n",
        encoding="utf-8",
    )
    frames = taobao_frames(path)
    assert frames["events"]["kind"].tolist() == ["view", "favorite", "cart", "purchase", "view"]
    assert frames["events"]["ts"].iloc[0] == 1_511_544_070_000
    assert frames["items"].to_dict("list") == {"item_id": ["100", "200"], "category": ["7", "8"]}
    report = import_dataset(store, "taobao", path, IngestSettings())
    assert report.rows_written == 5 + 2


def test_otto_sessions(tmp_path):
    path = tmp_path / "otto.jsonl"
    path.write_text(
        '{"session": 0, "events": [{"aid": 11, "ts": 1659304800025, "type": "clicks"},'
        ' {"aid": 11, "ts": 1659304900000, "type": "carts"}, {"aid": 11, "ts": 1659305000000, "type": "orders"}]}\n'
        '{"session": 1, "events": [{"aid": 12, "ts": 1659304800000, "type": "clicks"}]}\n',
        encoding="utf-8",
    )
    events = otto_frames(path)["events"]
    assert events["kind"].tolist() == ["click", "cart", "purchase", "click"]
    assert events["user_id"].tolist() == events["session_id"].tolist() == ["0", "0", "0", "1"]
    assert events["item_id"].tolist() == ["11", "11", "11", "12"]


def test_unknown_dataset_or_path(tmp_path, store):
    with pytest.raises(InvalidInputError, match="known: amazon"):
        import_dataset(store, "netflix", tmp_path, IngestSettings())
    with pytest.raises(InvalidInputError, match="not found"):
        import_dataset(store, "taobao", tmp_path / "missing.csv", IngestSettings())
