"""What only the local store does: its folder layout, its temporary files, zero-copy delivery,
and choosing stores by the ``blob_store`` setting."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from modelplaza.config import Settings
from modelplaza.plaza import Plaza
from modelplaza.storage import LocalFile
from modelplaza.storage.factory import UnknownBlobStore, open_store
from modelplaza.storage.local import LocalBlobStore


@pytest.fixture
def root(tmp_path):
    return tmp_path / "blobs"


@pytest.fixture
def store(root):
    return LocalBlobStore(root)


def _files(root) -> list:
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def test_objects_fan_out_in_two_levels_of_folders(store, root):
    key = store.put_bytes(b"hello").sha256
    assert _files(root) == [root.joinpath(key[:2], key[2:4], key).relative_to(root)]


def test_uploads_in_progress_are_temporary_files_until_finished(store, root):
    writer = store.writer()
    writer.write(b"half an upl")
    assert [p.parts[0] for p in _files(root)] == ["tmp"]
    assert list(store.objects()) == []
    assert store.sweep_incomplete(datetime.now(UTC) + timedelta(minutes=1), dry_run=True) == 1
    key = writer.finish().sha256
    assert _files(root) == [root.joinpath(key[:2], key[2:4], key).relative_to(root)]


def test_delivery_is_the_stored_file(store, root):
    key = store.put_bytes(bytes(100)).sha256
    assert store.deliver(key, 10, 19) == LocalFile(root / key[:2] / key[2:4] / key, 10, 10, 100)
    assert store.deliver(key) == LocalFile(root / key[:2] / key[2:4] / key, 0, 100, 100)


def test_storing_held_content_again_makes_it_young(store):
    key = store.put_bytes(b"old").sha256
    long_ago = (datetime.now(UTC) - timedelta(days=3)).timestamp()
    os.utime(store.deliver(key).path, (long_ago, long_ago))
    store.put_bytes(b"old")
    [stored] = store.objects()
    assert stored.modified > datetime.now(UTC) - timedelta(minutes=1)


def test_the_setting_chooses_the_store(tmp_path):
    store = open_store(Settings(data_dir=tmp_path), "xorbs")
    key = store.put_bytes(b"x").sha256
    assert isinstance(store.deliver(key), LocalFile)
    assert store.deliver(key).path.is_relative_to(tmp_path / "xorbs")


def test_an_unknown_store_is_refused_at_start_up(tmp_path):
    with pytest.raises(UnknownBlobStore, match="PLAZA_BLOB_STORE is 'nowhere'; the blob stores are: local"):
        Plaza(Settings(data_dir=tmp_path, blob_store="nowhere"))
    env = {**os.environ, "PLAZA_DATA_DIR": str(tmp_path), "PLAZA_BLOB_STORE": "nowhere"}
    serve = subprocess.run(
        [sys.executable, "-m", "modelplaza.cli.main", "serve"], env=env, capture_output=True, text=True
    )
    assert serve.returncode == 1
    assert serve.stderr.strip() == "error: PLAZA_BLOB_STORE is 'nowhere'; the blob stores are: local"
