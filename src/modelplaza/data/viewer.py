"""The dataset viewer's answers for one commit: its splits, and for a data file its schema, row
count, a page of rows and column statistics. Every answer depends only on a commit id or a
file's content, so each is computed once and kept in a size-bounded cache."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar, cast

import pyarrow as pa
from sqlalchemy.orm import Session

from modelplaza.data.cache import SizedCache
from modelplaza.data.cells import Cell, table_cells
from modelplaza.data.columns import STAT_KINDS, Column, describe
from modelplaza.data.sources import open_file
from modelplaza.data.stats import ColumnStats, table_stats
from modelplaza.errors import BadRequest, NotFound
from modelplaza.formats import tables
from modelplaza.formats.splits import FORMAT_NAMES, DataFile, Split, find_splits
from modelplaza.formats.tables import RowCount
from modelplaza.hub import trees
from modelplaza.hub.cards import InvalidCardMetadata, parse_card
from modelplaza.hub.content import Contents

ROWS_PER_PAGE = 20
# Statistics cover at most the first rows of a file, up to this many or this many bytes.
STATS_ROWS = 100_000
STATS_BYTES = 64 << 20
CACHE_BYTES = 64 << 20
CARD_BYTES = 1 << 20
# What a result without rows counts for in the cache.
SMALL = 4096

T = TypeVar("T")


class UnreadableData(BadRequest):
    """A data file the viewer cannot read; the message says which and why."""


@dataclass(frozen=True)
class RowsPage:
    number: int  # from 1
    first_row: int  # from 0
    cells: tuple[tuple[Cell, ...], ...]
    has_next: bool

    @property
    def size(self) -> int:
        return SMALL + sum(len(c.text) + len(c.image or "") + 64 for row in self.cells for c in row)


@dataclass(frozen=True)
class Statistics:
    rows: int  # the rows they cover, from the first
    columns: tuple[ColumnStats, ...]
    without: tuple[str, ...]  # columns of a kind that gets none (images, bytes, nested)


@dataclass(frozen=True)
class SplitInfo:
    split: Split
    rows: RowCount | None  # None when one of its files could not be read


@dataclass
class Preview:
    """Everything the viewer page shows for one file of one split."""

    splits: list[SplitInfo]
    split: Split | None = None
    file: DataFile | None = None
    columns: tuple[Column, ...] | None = None
    rows: RowCount | None = None
    page: RowsPage | None = None
    stats: Statistics | None = None
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Failure:
    message: str


_cache = SizedCache(CACHE_BYTES)
_MISSING = object()


def _cached(key: Hashable, compute: Callable[[], T], size: Callable[[T], int] = lambda _: SMALL) -> T:
    """``compute()``'s result, once per key; an unreadable file is remembered as such too."""
    value = _cache.get(key, _MISSING)
    if value is _MISSING:
        try:
            value = compute()
            _cache.put(key, value, size(value))
        except UnreadableData as exc:
            value = _Failure(exc.message)
            _cache.put(key, value, SMALL)
    if isinstance(value, _Failure):
        raise UnreadableData(value.message)
    return cast(T, value)  # the cache holds any kind of value: the key says which


def _read(session: Session, contents: Contents, file: DataFile, action: Callable[[tables.DataTable], T]) -> T:
    """``action`` applied to the open file; UnreadableData for anything pyarrow cannot parse."""
    try:
        with open_file(contents, session, file.sha256) as handle:
            return action(tables.open_table(handle, file.size, file.format))
    except (pa.ArrowException, ValueError, OSError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UnreadableData(
            f"{file.path} could not be read as {FORMAT_NAMES[file.format]}: {reason}"
        ) from None


def _card_data(session: Session, contents: Contents, files: dict[str, trees.FileEntry]) -> dict:
    readme = files.get("README.md")
    if readme is None or readme.size > CARD_BYTES:
        return {}
    try:
        return parse_card(contents.read_bytes(session, readme.sha256).decode("utf-8", "replace")).card_data
    except InvalidCardMetadata:
        return {}  # the card's own page reports it; the viewer falls back to file names


def splits(session: Session, contents: Contents, commit_id: str) -> list[Split]:
    def compute() -> list[Split]:
        files = trees.snapshot(session, commit_id).files
        sizes = {path: (entry.sha256, entry.size) for path, entry in files.items()}
        return find_splits(sizes, _card_data(session, contents, files))

    return _cached(
        ("splits", commit_id), compute, lambda found: SMALL + 256 * sum(len(s.files) for s in found)
    )


def _answer(
    session: Session,
    contents: Contents,
    file: DataFile,
    question: tuple,
    action: Callable[[tables.DataTable], T],
    size: Callable[[T], int] = lambda _: SMALL,
) -> T:
    """``action``'s answer about the file, computed once per content, format and question."""
    key = (file.sha256, file.format, *question)
    return _cached(key, lambda: _read(session, contents, file, action), size)


def columns(session: Session, contents: Contents, file: DataFile) -> tuple[Column, ...]:
    def read(table: tables.DataTable) -> tuple[Column, ...]:
        return tuple(describe(table.schema))

    return _answer(session, contents, file, ("columns",), read, lambda found: SMALL + 256 * len(found))


def schema(session: Session, contents: Contents, file: DataFile) -> pa.Schema:
    def read(table: tables.DataTable) -> pa.Schema:
        return table.schema

    return _answer(session, contents, file, ("schema",), read, lambda found: SMALL + 256 * len(found))


def split_schema(
    session: Session, contents: Contents, commit_id: str, split_name: str
) -> tuple[list[str], pa.Schema | None]:
    """The names of the commit's splits, and the schema of the first file of split
    ``split_name`` (of the first split when there is none by that name; None without data)."""
    found = splits(session, contents, commit_id)
    if not found:
        return [], None
    split = next((s for s in found if s.name == split_name), found[0])
    return [s.name for s in found], schema(session, contents, split.files[0])


def row_count(session: Session, contents: Contents, file: DataFile) -> RowCount:
    return _answer(session, contents, file, ("rows",), lambda table: table.count_rows())


def split_rows(session: Session, contents: Contents, split: Split) -> RowCount | None:
    try:
        counts = [row_count(session, contents, file) for file in split.files]
    except UnreadableData:
        return None
    return RowCount(sum(c.rows for c in counts), all(c.exact for c in counts))


def rows_page(
    session: Session, contents: Contents, file: DataFile, number: int, per_page: int = ROWS_PER_PAGE
) -> RowsPage:
    """Page ``number`` (from 1) of the file's rows."""
    if number < 1:
        raise BadRequest("Page numbers start at 1")

    def read(table: tables.DataTable) -> RowsPage:
        first = (number - 1) * per_page
        found = tables.rows(table, first, per_page + 1)  # one more tells whether a next page exists
        cells = table_cells(found.slice(0, per_page), describe(table.schema))
        return RowsPage(number, first, tuple(map(tuple, cells)), found.num_rows > per_page)

    return _answer(session, contents, file, ("page", number, per_page), read, lambda page: page.size)


def statistics(session: Session, contents: Contents, file: DataFile) -> Statistics:
    """Statistics of each column over the file's first rows (STATS_ROWS, STATS_BYTES)."""

    def read(table: tables.DataTable) -> Statistics:
        described = describe(table.schema)
        chosen = [i for i, column in enumerate(described) if column.kind in STAT_KINDS]
        without = tuple(c.name for c in described if c.kind not in STAT_KINDS)
        if not chosen:
            return Statistics(0, (), without)
        schema = pa.schema([table.schema.field(i) for i in chosen])
        head = tables.collect(table.batches(chosen), schema, STATS_ROWS, STATS_BYTES)
        return Statistics(head.num_rows, tuple(table_stats(head, [described[i] for i in chosen])), without)

    return _answer(session, contents, file, ("stats",), read, lambda stats: SMALL + 2048 * len(stats.columns))


def _find(found: list[Split], name: str | None, path: str | None) -> tuple[Split, DataFile]:
    split = next((s for s in found if s.name == name), None) if name else found[0]
    if split is None:
        raise NotFound(f"This dataset has no split named {name!r}")
    file = next((f for f in split.files if f.path == path), None) if path else split.files[0]
    if file is None:
        raise NotFound(f"The {split.name} split has no file {path!r}")
    return split, file


def preview(
    session: Session,
    contents: Contents,
    commit_id: str,
    split_name: str | None = None,
    path: str | None = None,
    page: int = 1,
) -> Preview:
    """What the viewer shows of the commit: all splits, and of split ``split_name`` (by
    default the first) its file ``path`` (by default its first). A file that cannot be read
    leaves its parts empty and says why in ``errors``; an unknown split or file is NotFound."""
    found = splits(session, contents, commit_id)
    result = Preview([SplitInfo(s, split_rows(session, contents, s)) for s in found])
    if not found:
        return result
    result.split, file = _find(found, split_name, path)
    result.file = file
    result.columns = _attempt(result.errors, lambda: columns(session, contents, file))
    result.rows = _attempt(result.errors, lambda: row_count(session, contents, file))
    result.page = _attempt(result.errors, lambda: rows_page(session, contents, file, page))
    result.stats = _attempt(result.errors, lambda: statistics(session, contents, file))
    return result


def _attempt(errors: list[str], compute: Callable[[], T]) -> T | None:
    """``compute()``, or None with the reason added to ``errors`` when the file is unreadable."""
    try:
        return compute()
    except UnreadableData as exc:
        if exc.message not in errors:
            errors.append(exc.message)
        return None
