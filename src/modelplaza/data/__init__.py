"""The dataset viewer: splits, schema, rows, statistics and inline images of the CSV, TSV,
JSON Lines, JSON and Parquet files of a dataset commit, read with pyarrow a bounded piece at a
time. ``preview`` gives all a viewer page shows; the other functions are its parts."""

from modelplaza.data.viewer import (
    ROWS_PER_PAGE,
    Preview,
    RowsPage,
    Statistics,
    UnreadableData,
    columns,
    preview,
    row_count,
    rows_page,
    schema,
    split_schema,
    splits,
    statistics,
)

__all__ = [
    "ROWS_PER_PAGE",
    "Preview",
    "RowsPage",
    "Statistics",
    "UnreadableData",
    "columns",
    "preview",
    "row_count",
    "rows_page",
    "schema",
    "split_schema",
    "splits",
    "statistics",
]
