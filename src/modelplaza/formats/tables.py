"""Reading rows from one data file without holding it whole: Parquet by row groups (its footer
gives the schema and row count for free), CSV / TSV / JSON Lines with pyarrow's streaming
readers, which parse a block at a time."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, TypeAlias

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

# Rows per Parquet batch: small, as a batch of pictures can be large.
BATCH_ROWS = 256
# Parquet column chunks are read through a buffer of this size, never whole.
PARQUET_BUFFER = 1 << 20
# Text is parsed in blocks of this size; the first block decides the column types.
BLOCK_BYTES = 4 << 20
# Counting the rows of a text file stops after this many bytes and estimates the rest.
COUNT_BYTES = 512 << 20
# A JSON file holding one array is parsed whole, so only up to this size.
JSON_ARRAY_BYTES = 32 << 20
# Any seekable binary file: pyarrow's own or a Python one.
SeekableFile: TypeAlias = pa.NativeFile | BinaryIO


@dataclass(frozen=True)
class RowCount:
    rows: int
    exact: bool = True


class DataTable(Protocol):
    """One data file, open for reading rows."""

    @property
    def schema(self) -> pa.Schema: ...

    def count_rows(self) -> RowCount: ...

    def batches(self, columns: list[int] | None = None, start: int = 0) -> Iterator[pa.RecordBatch]:
        """Record batches from row ``start`` on, with only the columns at these positions (all
        by default)."""


def rows(table: DataTable, offset: int, limit: int) -> pa.Table:
    """Rows ``offset`` .. ``offset + limit - 1`` (fewer at the end of the file)."""
    return collect(table.batches(start=offset), table.schema, max_rows=limit)


def collect(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, max_rows: int, max_bytes: int | None = None
) -> pa.Table:
    """The first ``max_rows`` rows of ``batches``, stopping early past ``max_bytes``."""
    kept: list[pa.RecordBatch] = []
    count = size = 0
    for batch in batches:
        kept.append(batch.slice(0, max_rows - count))
        count += kept[-1].num_rows
        size += kept[-1].nbytes
        if count >= max_rows or (max_bytes is not None and size >= max_bytes):
            break
    return pa.Table.from_batches(kept) if kept else schema.empty_table()


def _skip(batches: Iterable[pa.RecordBatch], count: int) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        if count >= batch.num_rows:
            count -= batch.num_rows
            continue
        yield batch.slice(count)
        count = 0


class ParquetTable:
    def __init__(self, file: SeekableFile) -> None:
        self._file = pq.ParquetFile(file, pre_buffer=False, buffer_size=PARQUET_BUFFER)

    @property
    def schema(self) -> pa.Schema:
        return self._file.schema_arrow

    def count_rows(self) -> RowCount:
        return RowCount(self._file.metadata.num_rows)

    def batches(self, columns: list[int] | None = None, start: int = 0) -> Iterator[pa.RecordBatch]:
        # Row groups wholly before ``start`` are never read.
        metadata = self._file.metadata
        group, before = 0, 0
        while group < metadata.num_row_groups and before + metadata.row_group(group).num_rows <= start:
            before += metadata.row_group(group).num_rows
            group += 1
        if group == metadata.num_row_groups:
            return iter(())
        groups = list(range(group, metadata.num_row_groups))
        names = None if columns is None else [self.schema.names[i] for i in columns]
        batches = self._file.iter_batches(BATCH_ROWS, row_groups=groups, columns=names, use_threads=False)
        return _skip(batches, start - before)


class StreamTable:
    """A text file read front to back by a streaming reader; each pass rereads it."""

    def __init__(
        self, file: SeekableFile, size: int, open_reader: Callable[[SeekableFile], pa.RecordBatchReader]
    ) -> None:
        self._file = file
        self._size = size
        self._open_reader = open_reader
        self._reader: pa.RecordBatchReader | None = None

    def _fresh_reader(self) -> pa.RecordBatchReader:
        if self._reader is None:  # the one opened for the schema has read nothing yet
            self._file.seek(0)
            return self._open_reader(self._file)
        reader, self._reader = self._reader, None
        return reader

    @property
    def schema(self) -> pa.Schema:
        if self._reader is None:
            self._file.seek(0)
            self._reader = self._open_reader(self._file)
        return self._reader.schema

    def count_rows(self) -> RowCount:
        """Each batch of a streaming reader is one block of the file (BLOCK_BYTES), so past
        COUNT_BYTES the rest is estimated from the rows per block so far. (The file's
        position would not do: the reader reads many blocks ahead.)"""
        count = 0
        for blocks, batch in enumerate(self._fresh_reader(), 1):
            count += batch.num_rows
            parsed = blocks * BLOCK_BYTES
            if COUNT_BYTES <= parsed < self._size:
                return RowCount(int(count * self._size / parsed), exact=False)
        return RowCount(count)

    def batches(self, columns: list[int] | None = None, start: int = 0) -> Iterator[pa.RecordBatch]:
        batches = _skip(self._fresh_reader(), start)
        if columns is None:
            return batches
        return (batch.select(columns) for batch in batches)


def _csv_reader(delimiter: str) -> Callable[[SeekableFile], pa.RecordBatchReader]:
    def open_reader(file: SeekableFile) -> pa.RecordBatchReader:
        return pa_csv.open_csv(
            file,
            read_options=pa_csv.ReadOptions(block_size=BLOCK_BYTES, use_threads=False),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        )

    return open_reader


def _json_lines_reader(file: SeekableFile) -> pa.RecordBatchReader:
    return pa_json.open_json(
        file, read_options=pa_json.ReadOptions(block_size=BLOCK_BYTES, use_threads=False)
    )


def _json_reader(size: int) -> Callable[[SeekableFile], pa.RecordBatchReader]:
    """``.json`` holds either JSON Lines or one array of objects."""

    def open_reader(file: SeekableFile) -> pa.RecordBatchReader:
        start = file.tell()
        is_array = file.read(1024).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"["  # after any BOM
        file.seek(start)
        if not is_array:
            return _json_lines_reader(file)
        if size > JSON_ARRAY_BYTES:
            raise ValueError(f"a JSON array over {JSON_ARRAY_BYTES >> 20} MB is not previewed; JSON Lines is")
        records = json.loads(file.read())
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise ValueError("the JSON array must hold objects, one per row")
        return pa.Table.from_pylist(records).to_reader(BATCH_ROWS)

    return open_reader


def open_table(file: SeekableFile, size: int, fmt: str) -> DataTable:
    """``file`` (open, seekable) read as ``fmt``, one of ``splits.FORMATS``'s values."""
    if fmt == "parquet":
        return ParquetTable(file)
    readers = {
        "csv": _csv_reader(","),
        "tsv": _csv_reader("\t"),
        "jsonl": _json_lines_reader,
        "json": _json_reader(size),
    }
    return StreamTable(file, size, readers[fmt])
