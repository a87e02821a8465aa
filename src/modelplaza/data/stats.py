"""Simple statistics of a column, with pyarrow compute: numbers get their range, mean and a
histogram; strings and booleans their most frequent values; dates their range."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from modelplaza.data.columns import Column

BINS = 10
TOP_VALUES = 10
VALUE_CHARS = 60


@dataclass(frozen=True)
class Bin:
    label: str  # the values it holds: "4.3 – 4.66", or one integer
    count: int
    height: float  # percent of the tallest bin


@dataclass(frozen=True)
class TopValue:
    value: str
    count: int
    share: float  # percent of the non-null values


@dataclass(frozen=True)
class ColumnStats:
    column: Column
    rows: int
    nulls: int
    minimum: str | None = None
    maximum: str | None = None
    mean: str | None = None
    bins: tuple[Bin, ...] = ()
    top: tuple[TopValue, ...] = ()
    distinct: int | None = None


def number(value: float) -> str:
    """A number short enough for a table cell."""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    magnitude = abs(value)
    if magnitude >= 1e6 or magnitude < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4g}" if magnitude < 1000 else f"{value:.1f}"


def column_stats(column: Column, values: pa.ChunkedArray) -> ColumnStats:
    if pat.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    counts = {"column": column, "rows": len(values), "nulls": values.null_count}
    present = pc.drop_null(values)
    if column.kind == "number":
        return ColumnStats(**counts, **_numeric(present))
    if column.kind == "datetime":
        return ColumnStats(**counts, **_range(present))
    return ColumnStats(**counts, **_top_values(present))


def _numeric(values: pa.ChunkedArray) -> dict:
    integer = pat.is_integer(values.type)
    values = pc.cast(values, pa.float64(), safe=False)
    values = values.filter(pc.is_finite(values))
    if len(values) == 0:
        return {}
    low, high = (v.as_py() for v in pc.min_max(values).values())
    return {
        "minimum": number(low),
        "maximum": number(high),
        "mean": number(pc.mean(values).as_py()),
        "bins": _histogram(values, low, high, integer),
    }


def _histogram(values: pa.ChunkedArray, low: float, high: float, integer: bool) -> tuple[Bin, ...]:
    """Equal-width bins over low..high; integers get whole-number edges (one value per bin
    when there are few)."""
    width: float
    if integer:
        width = math.ceil((high - low + 1) / BINS)
        count = math.ceil((high - low + 1) / width)
    else:
        count = BINS if high > low else 1
        width = (high - low) / BINS if high > low else 1.0
    index = pc.cast(pc.floor(pc.divide(pc.subtract(values, low), width)), pa.int64())
    found = pc.value_counts(pc.min_element_wise(index, count - 1))
    counts = dict(zip(found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True))
    tallest = max(counts.values())
    return tuple(
        Bin(
            _bin_label(low + i * width, width, integer, count),
            counts.get(i, 0),
            round(100 * counts.get(i, 0) / tallest, 1),
        )
        for i in range(count)
    )


def _bin_label(start: float, width: float, integer: bool, count: int) -> str:
    if count == 1 or (integer and width == 1):
        return number(start)
    return f"{number(start)} – {number(start + width - 1 if integer else start + width)}"


def _range(values: pa.ChunkedArray) -> dict:
    if len(values) == 0:
        return {}
    low, high = (v.as_py() for v in pc.min_max(values).values())
    return {"minimum": str(low), "maximum": str(high)}


def _shown(value: object) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _top_values(values: pa.ChunkedArray) -> dict:
    if len(values) == 0:
        return {"distinct": 0}
    found = pc.value_counts(values)
    if len(found) == len(values) > 1:
        return {"distinct": len(found)}  # every value differs: no value is frequent
    order = pc.array_sort_indices(found.field("counts"), order="descending")[:TOP_VALUES]
    top = pc.take(found, order)
    return {
        "distinct": len(found),
        "top": tuple(
            TopValue(_shown(value), count, round(100 * count / len(values), 1))
            for value, count in zip(
                top.field("values").to_pylist(), top.field("counts").to_pylist(), strict=True
            )
        ),
    }


def table_stats(table: pa.Table, columns: list[Column]) -> list[ColumnStats]:
    """Statistics of each of ``columns``, which are ``table``'s columns in order."""
    return [column_stats(column, table.column(i)) for i, column in enumerate(columns)]
