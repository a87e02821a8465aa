"""The dataset viewer's domain on real files: split discovery by the ``datasets`` conventions,
and schema, rows, statistics and pictures read from CSV, JSON Lines, JSON and Parquet files
held in a real blob store, a large Parquet file included."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from modelplaza import data
from modelplaza.data import viewer
from modelplaza.data.cache import SizedCache
from modelplaza.data.cells import IMAGE_BYTES
from modelplaza.data.sources import RangeFile
from modelplaza.db import Database
from modelplaza.errors import BadRequest, NotFound
from modelplaza.formats import tables
from modelplaza.formats.splits import DataFile, file_format, find_splits, glob_regex
from modelplaza.hub import trees
from modelplaza.hub.content import Contents
from modelplaza.storage.local import LocalBlobStore
from tests.images import png


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'plaza.db'}")
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    with database.read() as session:
        yield session


@pytest.fixture
def contents(tmp_path) -> Contents:
    return Contents(LocalBlobStore(tmp_path / "blobs"), LocalBlobStore(tmp_path / "xorbs"))


def store(contents: Contents, path: str, data: bytes) -> DataFile:
    info = contents.blobs.put_bytes(data)
    return DataFile(path, info.sha256, info.size, file_format(path))


def parquet_bytes(table: pa.Table, **options) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **options)
    return buffer.getvalue()


def split_files(paths: list[str], card: dict | None = None) -> dict[str, list[str]]:
    found = find_splits({path: ("0" * 64, 10) for path in paths}, card)
    return {split.name: [f.path for f in split.files] for split in found}


# Split discovery


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (
            [
                "data/train-00000-of-00002.parquet",
                "data/train-00001-of-00002.parquet",
                "data/test-00000-of-00001.parquet",
            ],
            {
                "train": ["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"],
                "test": ["data/test-00000-of-00001.parquet"],
            },
        ),
        (["README.md", "test.csv", "train.csv"], {"train": ["train.csv"], "test": ["test.csv"]}),
        (
            ["data/test.jsonl", "data/train.jsonl"],
            {"train": ["data/train.jsonl"], "test": ["data/test.jsonl"]},
        ),
        (
            ["train/a.csv", "train/b.csv", "valid/c.csv", "evaluation/d.tsv"],
            {
                "train": ["train/a.csv", "train/b.csv"],
                "validation": ["valid/c.csv"],
                "test": ["evaluation/d.tsv"],
            },
        ),
        (
            ["my_training_data.csv", "dev-1.ndjson"],
            {"train": ["my_training_data.csv"], "validation": ["dev-1.ndjson"]},
        ),
        (["data/extra-00000-of-00001.parquet"], {"extra": ["data/extra-00000-of-00001.parquet"]}),
        (["iris.csv", "notes/more.json"], {"train": ["iris.csv", "notes/more.json"]}),
        (["trainer.csv"], {"train": ["trainer.csv"]}),  # "trainer" is no split word: one unsplit file
        ([".hidden/train.csv", "dataset_info.json", "model.bin", "README.md"], {}),
    ],
)
def test_splits_follow_the_datasets_naming_conventions(paths, expected):
    assert split_files(paths) == expected


def test_splits_come_in_train_validation_test_then_name_order():
    paths = ["zeta.csv", "test.csv", "alpha-00000-of-00001.csv", "validation.csv", "train.csv"]
    assert list(split_files(paths)) == ["train", "validation", "test", "alpha"]


def test_card_configs_name_the_split_files():
    paths = ["data/train-00000-of-00001.parquet", "data/holdout/x.csv", "data/holdout.csv", "other/train.csv"]
    card = {
        "configs": [
            {"config_name": "other", "data_files": "other/*.csv"},
            {
                "config_name": "default",
                "data_files": [
                    {"split": "train", "path": "data/train-*"},
                    {"split": "exam", "path": ["data/holdout.*", "data/holdout/**"]},
                ],
            },
        ]
    }
    assert split_files(paths, card) == {
        "train": ["data/train-00000-of-00001.parquet"],
        "exam": ["data/holdout.csv", "data/holdout/x.csv"],
    }


@pytest.mark.parametrize(
    ("configs", "expected"),
    [
        ([{"config_name": "a", "data_files": ["x.csv", "y.csv"]}], {"train": ["x.csv", "y.csv"]}),
        ([{"config_name": "a", "data_files": {"test": "y.csv"}}], {"test": ["y.csv"]}),
        (
            [{"config_name": "a", "data_files": "*.parquet"}],
            {"train": ["x.csv", "y.csv"]},
        ),  # no match: names decide
        ("not a list", {"train": ["x.csv", "y.csv"]}),
    ],
)
def test_card_configs_in_every_shape_or_fall_back_to_names(configs, expected):
    assert split_files(["x.csv", "y.csv"], {"configs": configs}) == expected


def test_globs_keep_single_stars_inside_a_folder():
    assert glob_regex("data/*.csv").fullmatch("data/a.csv")
    assert not glob_regex("data/*.csv").fullmatch("data/sub/a.csv")
    assert glob_regex("data/**/*.csv").fullmatch("data/a.csv")
    assert glob_regex("data/**/*.csv").fullmatch("data/sub/deeper/a.csv")
    assert glob_regex("part-[0-9][!a].csv").fullmatch("part-1b.csv")
    assert not glob_regex("part-[0-9][!a].csv").fullmatch("part-1a.csv")
    assert glob_regex("a+b (1).csv").fullmatch("a+b (1).csv")


# Reading files


def test_a_large_parquet_file_is_read_a_page_at_a_time(session, contents):
    rows = 200_000
    table = pa.table({"id": pa.array(range(rows)), "half": pa.array([i / 2 for i in range(rows)])})
    file = store(contents, "data/train-00000-of-00001.parquet", parquet_bytes(table, row_group_size=10_000))

    assert data.row_count(session, contents, file) == tables.RowCount(rows)
    page = data.rows_page(session, contents, file, 5_001)
    assert page.first_row == 100_000 and page.has_next
    assert [[c.text for c in row] for row in page.cells[:2]] == [["100000", "50000.0"], ["100001", "50000.5"]]
    last = data.rows_page(session, contents, file, rows // 20)
    assert len(last.cells) == 20 and not last.has_next
    assert data.rows_page(session, contents, file, rows // 20 + 1).cells == ()

    stats = data.statistics(session, contents, file)
    assert stats.rows == viewer.STATS_ROWS  # the first rows only
    ids = stats.columns[0]
    assert (ids.minimum, ids.maximum, ids.mean) == ("0", "99999", "49999.5")
    assert [b.count for b in ids.bins] == [10_000] * 10


def test_a_page_deep_in_parquet_reads_only_its_row_group(session, contents):
    rows = 200_000
    data = parquet_bytes(pa.table({"id": pa.array(range(rows))}), row_group_size=10_000)
    file = store(contents, "big.parquet", data)
    raw = RangeFile(contents, session, file.sha256, file.size)  # as a Xet file is read
    with io.BufferedReader(raw, 64 * 1024) as handle:
        page = tables.rows(tables.open_table(handle, file.size, "parquet"), 150_000, 20)
    assert page.column("id").to_pylist() == list(range(150_000, 150_020))
    assert raw.bytes_read < file.size / 5


def test_csv_rows_statistics_and_histograms(session, contents):
    rng = random.Random(7)
    species = [rng.choice(["setosa", "versicolor", "virginica"]) for _ in range(150)]
    lengths = [round(rng.uniform(4.3, 7.9), 1) for _ in species]
    lines = ["sepal_length,species,label"] + [
        f"{x},{s},{['setosa', 'versicolor', 'virginica'].index(s)}"
        for x, s in zip(lengths, species, strict=True)
    ]
    lines[5] = "5.0,,0"  # one species missing
    file = store(contents, "iris.csv", "\n".join(lines).encode())

    assert [(c.name, c.type, c.kind) for c in data.columns(session, contents, file)] == [
        ("sepal_length", "double", "number"),
        ("species", "string", "string"),
        ("label", "int64", "number"),
    ]
    assert data.row_count(session, contents, file) == tables.RowCount(150)
    page = data.rows_page(session, contents, file, 2)
    assert page.first_row == 20 and [c.text for c in page.cells[0]][1] == species[20]

    stats = data.statistics(session, contents, file)
    length, kind, label = stats.columns
    assert stats.rows == 150 and stats.without == ()
    kept = lengths[:4] + [5.0] + lengths[5:]
    assert (float(length.minimum), float(length.maximum)) == (min(kept), max(kept))
    assert float(length.mean) == pytest.approx(sum(kept) / 150, rel=1e-3)
    assert len(length.bins) == 10 and sum(b.count for b in length.bins) == 150
    assert max(b.height for b in length.bins) == 100.0
    counts = {s: (species[:4] + [""] + species[5:]).count(s) for s in ("setosa", "versicolor", "virginica")}
    assert kind.distinct == 4 and kind.nulls == 0  # CSV reads an empty field as an empty string
    assert {t.value: t.count for t in kind.top} == {**counts, "": 1}
    assert [t.count for t in kind.top] == sorted((t.count for t in kind.top), reverse=True)
    assert [b.label for b in label.bins] == ["0", "1", "2"]  # one bin per class


def test_json_lines_with_nulls_lists_and_dates(session, contents):
    records = [
        {
            "text": f"row {i}",
            "score": None if i % 4 == 0 else i * 1.5,
            "tags": ["a", "b"][: i % 3],
            "day": "2024-05-01",
        }
        for i in range(45)
    ]
    file = store(contents, "data/train.jsonl", "\n".join(json.dumps(r) for r in records).encode())
    kinds = {c.name: c.kind for c in data.columns(session, contents, file)}
    assert kinds == {"text": "string", "score": "number", "tags": "list", "day": "datetime"}

    page = data.rows_page(session, contents, file, 3)
    assert page.first_row == 40 and len(page.cells) == 5 and not page.has_next
    row = page.cells[0]
    assert [c.text for c in row] == ["row 40", "null", '["a"]', "2024-05-01 00:00:00"] and row[1].null

    stats = {s.column.name: s for s in data.statistics(session, contents, file).columns}
    assert stats["score"].nulls == 12 and stats["score"].rows == 45
    assert (stats["day"].minimum, stats["day"].maximum) == ("2024-05-01 00:00:00", "2024-05-01 00:00:00")
    assert data.statistics(session, contents, file).without == ("tags",)
    assert stats["text"].top == () and stats["text"].distinct == 45  # every value differs


def test_a_json_array_file_and_a_tsv_file(session, contents):
    array = store(contents, "train.json", b' [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]')
    assert [[c.text for c in row] for row in data.rows_page(session, contents, array, 1).cells] == [
        ["1", "x"],
        ["2", "y"],
    ]
    tsv = store(contents, "test.tsv", b"a\tb\n1\thello, world\n")
    assert [c.text for c in data.rows_page(session, contents, tsv, 1).cells[0]] == [
        "1",
        "hello, world",
    ]


def test_pictures_are_inlined_when_small(session, contents):
    small = png(4, 4, (255, 0, 0))
    big = png(400, 400, (0, 0, 0)) + b"\0" * IMAGE_BYTES
    table = pa.table(
        {
            "image": [{"bytes": small, "path": "pics/red.png"}, {"bytes": big, "path": "big.png"}, None],
            "raw": [small, b"\x00\x01 not a picture", None],
        }
    )
    file = store(contents, "pictures.parquet", parquet_bytes(table))
    assert [c.kind for c in data.columns(session, contents, file)] == ["image", "binary"]
    cells = data.rows_page(session, contents, file, 1).cells
    assert cells[0][0].text == "red.png" and cells[0][0].image.startswith("data:image/png;base64,")
    assert cells[0][1].image == cells[0][0].image  # picture bytes in a plain binary column
    assert cells[1][0].image is None and "too large to show" in cells[1][0].text
    assert cells[1][1].text == "<16 bytes>" and cells[1][1].image is None
    assert cells[2][0].null and cells[2][1].null
    assert data.statistics(session, contents, file).without == ("image", "raw")


def test_long_text_is_cut_for_the_table(session, contents):
    file = store(contents, "train.csv", b"text\n" + b"x" * 5000 + b"\n")
    text = data.rows_page(session, contents, file, 1).cells[0][0].text
    assert len(text) == 300 and text.endswith("…")


@pytest.mark.parametrize(
    ("path", "header", "row"),
    [("train.csv", b"n\n", b"%d\n"), ("train.jsonl", b"", b'{"n": %d}\n')],
)
def test_counting_a_huge_text_file_stops_early_with_an_estimate(
    session, contents, monkeypatch, path, header, row
):
    monkeypatch.setattr(tables, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(tables, "COUNT_BYTES", 400_000)
    file = store(contents, path, header + b"".join(row % (100_000 + i) for i in range(200_000)))
    count = data.row_count(session, contents, file)
    assert not count.exact and 195_000 < count.rows < 205_000


# Bad files


@pytest.mark.parametrize(
    ("path", "content", "message"),
    [
        ("train.parquet", b"not parquet", "train.parquet could not be read as Parquet"),
        ("train.csv", b"a,b\n1,2\n1,2,3\n", "train.csv could not be read as CSV: CSV parse error"),
        ("train.jsonl", b'{"a": 1}\n{"a": \n', "train.jsonl could not be read as JSON Lines"),
        ("train.json", b"[1, 2, 3]", "the JSON array must hold objects"),
        ("train.csv", b"\xff\xfe\x00bad", "train.csv could not be read as CSV"),
    ],
)
def test_unreadable_files_say_why(session, contents, path, content, message):
    file = store(contents, path, content)
    with pytest.raises(data.UnreadableData, match=message):
        data.rows_page(session, contents, file, 1)


def test_missing_content_is_unreadable_not_a_crash(session, contents):
    file = DataFile("train.csv", "a" * 64, 10, "csv")
    with pytest.raises(data.UnreadableData, match="could not be read as CSV: No content is held"):
        data.columns(session, contents, file)


def test_page_numbers_start_at_one(session, contents):
    file = store(contents, "train.csv", b"a\n1\n")
    with pytest.raises(BadRequest):
        data.rows_page(session, contents, file, 0)


# The whole preview of a commit


@pytest.fixture
def commit(contents, monkeypatch):
    """A commit's files, served to the viewer as the tree module would."""
    files: dict[str, trees.FileEntry] = {}

    def add(path: str, data: bytes) -> None:
        info = contents.blobs.put_bytes(data)
        files[path] = trees.FileEntry(info.sha256, info.size, "0" * 40, False)

    monkeypatch.setattr(trees, "snapshot", lambda session, commit_id: trees.Snapshot.build(dict(files)))
    return add


def test_preview_shows_every_split_and_the_chosen_file(session, contents, commit):
    commit("train.csv", b"a\n" + b"1\n" * 30)
    commit("test.csv", b"a\n1\n")
    commit("broken/test.parquet", b"nope")
    shown = data.preview(session, contents, "c1", "test", "broken/test.parquet")
    assert [(s.split.name, s.rows) for s in shown.splits] == [("train", tables.RowCount(30)), ("test", None)]
    assert shown.file.path == "broken/test.parquet"
    assert shown.columns is None and shown.page is None and shown.stats is None
    assert len(shown.errors) == 1 and shown.errors[0].startswith(
        "broken/test.parquet could not be read as Parquet: "
    )

    first = data.preview(session, contents, "c1", page=2)
    assert first.split.name == "train" and first.file.path == "train.csv"
    assert first.page.first_row == 20 and len(first.page.cells) == 10 and not first.errors


def test_preview_of_unknown_splits_and_files_is_not_found(session, contents, commit):
    commit("train.csv", b"a\n1\n")
    with pytest.raises(NotFound, match="no split named 'nope'"):
        data.preview(session, contents, "c2", "nope")
    with pytest.raises(NotFound, match="has no file 'other.csv'"):
        data.preview(session, contents, "c2", "train", "other.csv")


def test_preview_of_a_commit_without_data(session, contents, commit):
    commit("README.md", b"# Just words\n")
    shown = data.preview(session, contents, "c3")
    assert shown.splits == [] and shown.file is None


def test_the_card_decides_the_splits(session, contents, commit):
    commit(
        "README.md",
        b"---\nconfigs:\n- config_name: default\n  data_files:\n  - split: eval\n    path: '*.csv'\n---\n",
    )
    commit("train.csv", b"a\n1\n")
    assert [s.split.name for s in data.preview(session, contents, "c4").splits] == ["eval"]


# The cache


def test_results_are_computed_once(session, contents, monkeypatch):
    file = store(contents, "train.csv", b"a\n1\n")
    first = data.rows_page(session, contents, file, 1)
    monkeypatch.setattr(viewer, "_read", lambda *args: pytest.fail("read again"))
    assert data.rows_page(session, contents, file, 1) is first


def test_the_cache_stays_within_its_size():
    cache = SizedCache(max_bytes=100)
    for key in range(5):
        cache.put(key, f"value {key}", 30)
    assert len(cache) == 3 and cache.size == 90
    assert cache.get(0) is None and cache.get(4) == "value 4"
    cache.get(2)  # now the most recently used
    cache.put("new", "x", 60)
    assert cache.get(2) == "value 2" and cache.get(3) is None
    cache.put("huge", "y", 101)
    assert cache.get("huge") is None
