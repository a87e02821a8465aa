"""The local content-addressed blob store: nothing becomes visible unless it is whole and right."""

import hashlib
import threading

import pytest

from modelplaza.storage import BlobMismatch, BlobTooLarge, LocalBlobStore


@pytest.fixture
def store(tmp_path):
    return LocalBlobStore(tmp_path / "blobs")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _leftovers(store: LocalBlobStore) -> list:
    return list(store.tmp_dir.iterdir())


def test_put_bytes_stores_under_the_sha256(store):
    info = store.put_bytes(b"hello")
    assert info.sha256 == _sha(b"hello") and info.size == 5
    assert store.exists(info.sha256)
    assert store.path(info.sha256).relative_to(store.root).parts[:2] == (info.sha256[:2], info.sha256[2:4])
    assert store.read_bytes(info.sha256) == b"hello"
    assert store.size(info.sha256) == 5
    assert _leftovers(store) == []


def test_equal_content_is_stored_once(store):
    first = store.put_bytes(b"same bytes")
    writer = store.writer()
    writer.write(b"same ")
    writer.write(b"bytes")
    second = writer.finish(expected_sha256=first.sha256, expected_size=10)
    assert first == second
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert files == [store.path(first.sha256)]


def test_streamed_writer_hashes_all_chunks(store):
    data = bytes(range(256)) * 1000
    writer = store.writer()
    for i in range(0, len(data), 4096):
        writer.write(data[i : i + 4096])
    info = writer.finish(expected_sha256=_sha(data), expected_size=len(data))
    assert store.read_bytes(info.sha256) == data


def test_sha256_mismatch_keeps_nothing(store):
    writer = store.writer()
    writer.write(b"actual content")
    with pytest.raises(BlobMismatch, match="sha256"):
        writer.finish(expected_sha256=_sha(b"other content"))
    assert not store.exists(_sha(b"actual content"))
    assert not store.exists(_sha(b"other content"))
    assert _leftovers(store) == []


def test_size_mismatch_keeps_nothing(store):
    writer = store.writer()
    writer.write(b"12345")
    with pytest.raises(BlobMismatch, match="received 5 bytes, expected 6"):
        writer.finish(expected_sha256=_sha(b"12345"), expected_size=6)
    assert not store.exists(_sha(b"12345"))
    assert _leftovers(store) == []


def test_abort_removes_the_temporary_file(store):
    writer = store.writer()
    writer.write(b"half an upl")
    assert len(_leftovers(store)) == 1
    writer.abort()
    writer.abort()  # Twice is harmless.
    assert _leftovers(store) == []
    assert not store.exists(_sha(b"half an upl"))


def test_size_limit(store):
    writer = store.writer(max_size=10)
    writer.write(b"0123456789")
    with pytest.raises(BlobTooLarge, match="limit of 10 bytes"):
        writer.write(b"x")
    assert _leftovers(store) == []
    assert not store.exists(_sha(b"0123456789x"))
    exact = store.writer(max_size=10)
    exact.write(b"0123456789")
    assert store.exists(exact.finish().sha256)


def test_read_range(store):
    data = bytes(range(256)) * 40
    sha = store.put_bytes(data).sha256
    assert b"".join(store.read_range(sha, 0, len(data) - 1)) == data
    assert b"".join(store.read_range(sha, 10, 19)) == data[10:20]
    assert b"".join(store.read_range(sha, 5, 5)) == data[5:6]
    chunks = list(store.read_range(sha, 100, 1099, chunk_size=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    assert b"".join(chunks) == data[100:1100]
    # A range past the end stops at the end rather than failing.
    assert b"".join(store.read_range(sha, len(data) - 3, len(data) + 100)) == data[-3:]


def test_delete(store):
    sha = store.put_bytes(b"bye").sha256
    store.delete(sha)
    assert not store.exists(sha)
    store.delete(sha)  # Deleting what is gone is harmless.


@pytest.mark.parametrize("bad", ["", "abc", "../" + "a" * 61, "A" * 64, "g" * 64])
def test_paths_only_for_sha256s(store, bad):
    with pytest.raises(ValueError, match="not a sha256"):
        store.path(bad)


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
            writer.finish(expected_sha256=_sha(data), expected_size=len(data))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read_bytes(_sha(data)) == data
    assert _leftovers(store) == []
    assert [p for p in store.root.rglob("*") if p.is_file()] == [store.path(_sha(data))]
