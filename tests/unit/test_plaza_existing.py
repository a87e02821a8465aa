"""Commands that change a plaza open it with ``Plaza.existing``: where there is none, they stop
with a message saying where they looked, having created nothing."""

from __future__ import annotations

import sqlite3

import pytest

from modelplaza.config import Settings
from modelplaza.plaza import NoPlaza, Plaza


def test_no_data_dir_no_plaza_and_nothing_created(tmp_path):
    where = tmp_path / "srv" / "plaza"
    with pytest.raises(NoPlaza) as refused:
        Plaza.existing(Settings(data_dir=where))
    assert refused.value.message == (
        f"no plaza at {where}; run `plaza serve --data-dir {where}` first or pass --data-dir"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_data_dir_without_its_database_is_no_plaza(tmp_path):
    with pytest.raises(NoPlaza, match="^no plaza at "):
        Plaza.existing(Settings(data_dir=tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_is_no_plaza_and_nothing_is_created_beside_it(tmp_path):
    sqlite3.connect(tmp_path / "empty.db").close()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(NoPlaza) as refused:
        Plaza.existing(Settings(data_dir=tmp_path, database_url=url))
    assert (
        refused.value.message == f"no plaza in the database {url}; run `plaza serve` with that database first"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]  # no stores, no key


def test_a_plaza_serve_made_opens(tmp_path):
    Plaza(Settings(data_dir=tmp_path)).migrate().close()
    plaza = Plaza.existing(Settings(data_dir=tmp_path))
    assert plaza.db.has_schema()
    plaza.close()
