"""The blob store contract, run against every store kind: nothing becomes visible unless it is
whole and right, and every way to bytes (ranges, seeking, delivery) gives the same bytes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from modelplaza.config import Settings
from modelplaza.storage import BlobMismatch, BlobStore, BlobTooLarge
from modelplaza.storage.factory import STORE_KINDS, open_store
from tests.unit.storage_contract import LATER, delivered, keys, nothing_kept, sha

DATA = bytes(range(256)) * 40


@pytest.fixture(params=sorted(STORE_KINDS))
def store(request, tmp_path) -> BlobStore:
    return open_store(Settings(data_dir=tmp_path, blob_store=request.param), "blobs")


def test_put_bytes_round_trip(store):
    info = store.put_bytes(b"hello")
    assert info.sha256 == sha(b"hello") and info.size == 5
    assert store.exists(info.sha256) and store.size(info.sha256) == 5
    assert store.read_bytes(info.sha256) == b"hello"
    assert keys(store) == {info.sha256}


def test_streamed_writer_hashes_all_chunks(store):
    writer = store.writer()
    for i in range(0, len(DATA), 4096):
        writer.write(DATA[i : i + 4096])
    info = writer.finish(expected_sha256=sha(DATA), expected_size=len(DATA))
    assert info.sha256 == sha(DATA) and store.read_bytes(info.sha256) == DATA


def test_puts_are_idempotent(store):
    first = store.put_bytes(b"same bytes")
    writer = store.writer()
    writer.write(b"same ")
    writer.write(b"bytes")
    assert writer.finish(expected_sha256=first.sha256, expected_size=10) == first
    assert store.put_bytes(b"same bytes") == first
    assert keys(store) == {first.sha256}


def test_empty_blob(store):
    info = store.put_bytes(b"")
    assert info.size == 0 and store.read_bytes(info.sha256) == b""
    assert delivered(store.deliver(info.sha256), 0, -1) == b""


def test_sha256_mismatch_keeps_nothing(store):
    writer = store.writer()
    writer.write(b"actual content")
    with pytest.raises(BlobMismatch, match="sha256"):
        writer.finish(expected_sha256=sha(b"other content"))
    assert not store.exists(sha(b"actual content")) and not store.exists(sha(b"other content"))
    assert nothing_kept(store)


def test_size_mismatch_keeps_nothing(store):
    writer = store.writer()
    writer.write(b"12345")
    with pytest.raises(BlobMismatch, match="received 5 bytes, expected 6"):
        writer.finish(expected_sha256=sha(b"12345"), expected_size=6)
    assert nothing_kept(store)


def test_check_verifies_the_bytes_and_keeps_nothing(store):
    writer = store.writer()
    writer.write(DATA)
    info = writer.check(expected_sha256=sha(DATA), expected_size=len(DATA))
    assert info.sha256 == sha(DATA) and info.size == len(DATA)
    assert nothing_kept(store)
    wrong = store.writer()
    wrong.write(b"actual content")
    with pytest.raises(BlobMismatch, match="sha256"):
        wrong.check(expected_sha256=sha(b"other content"), expected_size=14)
    assert nothing_kept(store)


def test_too_large_is_refused_and_nothing_kept(store):
    writer = store.writer(max_size=10)
    writer.write(b"0123456789")
    with pytest.raises(BlobTooLarge, match="limit of 10 bytes"):
        writer.write(b"x")
    assert nothing_kept(store)
    exact = store.writer(max_size=10)
    exact.write(b"0123456789")
    assert store.exists(exact.finish().sha256)


def test_abort_keeps_nothing(store):
    writer = store.writer()
    writer.write(b"half an upl")
    writer.abort()
    writer.abort()  # Twice is harmless.
    assert nothing_kept(store)


def test_interrupted_writes_are_swept_and_leave_nothing(store):
    writer = store.writer()
    writer.write(b"a client that went away")  # never finished nor aborted
    assert store.sweep_incomplete(datetime.now(UTC) - LATER) == 0  # young: may still finish
    store.sweep_incomplete(datetime.now(UTC) + LATER)
    assert nothing_kept(store)


def test_an_upload_in_progress_survives_a_sweep_of_older_ones(store):
    writer = store.writer()
    writer.write(b"still coming")
    store.sweep_incomplete(datetime.now(UTC) - LATER)
    assert store.read_bytes(writer.finish().sha256) == b"still coming"


def test_keyed_writes(store):
    key = "ab" * 32
    writer = store.keyed_writer()
    writer.write(b"xorb ")
    writer.write(b"bytes")
    assert writer.finish(key) is True
    again = store.keyed_writer()
    again.write(b"xorb bytes")
    assert again.finish(key) is False  # held already: nothing new kept
    assert store.put_keyed(key, b"xorb bytes") is False
    assert store.put_keyed("cd" * 32, b"other") is True
    assert store.read_bytes(key) == b"xorb bytes" and store.size(key) == 10
    assert keys(store) == {key, "cd" * 32}
    assert store.sweep_incomplete(datetime.now(UTC) + LATER, dry_run=True) == 0


def test_keyed_writer_too_large(store):
    writer = store.keyed_writer(max_size=3)
    with pytest.raises(BlobTooLarge):
        writer.write(b"four")
    assert nothing_kept(store)


def test_read_range(store):
    key = store.put_bytes(DATA).sha256
    assert b"".join(store.read_range(key, 0, len(DATA) - 1)) == DATA
    assert b"".join(store.read_range(key, 10, 19)) == DATA[10:20]
    assert b"".join(store.read_range(key, 5, 5)) == DATA[5:6]
    chunks = list(store.read_range(key, 100, 1099, chunk_size=300))
    assert all(len(c) <= 300 for c in chunks) and b"".join(chunks) == DATA[100:1100]
    # A range past the end stops at the end rather than failing.
    assert b"".join(store.read_range(key, len(DATA) - 3, len(DATA) + 100)) == DATA[-3:]


def test_open_reads_and_seeks(store):
    key = store.put_bytes(DATA).sha256
    with store.open(key) as file:
        file.seek(1000)
        assert file.read(24) == DATA[1000:1024]
        file.seek(0)
        assert file.read() == DATA


@pytest.mark.parametrize(("start", "end"), [(0, None), (0, 0), (100, 1099), (len(DATA) - 1, None)])
def test_delivery_answers_give_the_range(store, start, end):
    key = store.put_bytes(DATA).sha256
    last = len(DATA) - 1 if end is None else end
    assert delivered(store.deliver(key, start, end), start, last) == DATA[start : last + 1]


def test_delivery_past_the_end_stops_at_the_end(store):
    key = store.put_bytes(DATA).sha256
    assert delivered(store.deliver(key, 10, len(DATA) + 5), 10, len(DATA) - 1) == DATA[10:]


def test_delete(store):
    key = store.put_bytes(b"bye").sha256
    kept = store.put_bytes(b"stay").sha256
    store.delete(key)
    assert not store.exists(key) and keys(store) == {kept}
    store.delete(key)  # Deleting what is gone is harmless.


def test_listing_gives_sizes_and_ages(store):
    before = datetime.now(UTC) - timedelta(seconds=5)
    small, large = store.put_bytes(b"s"), store.put_bytes(DATA)
    listed = {o.key: o for o in store.objects()}
    assert {k: o.size for k, o in listed.items()} == {small.sha256: 1, large.sha256: len(DATA)}
    assert all(before <= o.modified <= datetime.now(UTC) + LATER for o in listed.values())


def test_missing_objects(store):
    missing = sha(b"never stored")
    assert not store.exists(missing)
    for read in (store.size, store.read_bytes, store.deliver, store.open):
        with pytest.raises(FileNotFoundError):
            read(missing)
    with pytest.raises(FileNotFoundError):
        b"".join(store.read_range(missing, 0, 10))


@pytest.mark.parametrize("bad", ["", "abc", "../" + "a" * 61, "A" * 64, "g" * 64])
def test_only_sha256_shaped_keys(store, bad):
    for use in (store.exists, store.delete, store.deliver, lambda key: store.put_keyed(key, b"x")):
        with pytest.raises(ValueError, match="not a sha256"):
            use(bad)


def test_concurrent_writers_of_the_same_content(store):
    data = b"shared weights " * 50_000
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def upload() -> None:
        try:
            writer = store.writer()
            barrier.wait()
            for i in range(0, len(data), 65536):
                writer.write(data[i : i + 65536])
            writer.finish(expected_sha256=sha(data), expected_size=len(data))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read_bytes(sha(data)) == data
    assert keys(store) == {sha(data)}
    assert store.sweep_incomplete(datetime.now(UTC) + LATER, dry_run=True) == 0
