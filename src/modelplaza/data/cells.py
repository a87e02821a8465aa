"""Row values as the viewer shows them: text cut to a readable length, small images inlined as
``data:`` URIs (only formats browsers show as pictures, never SVG), other bytes summarised."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pyarrow as pa

from modelplaza.data.columns import Column

TEXT_CHARS = 300
# Images larger than this are described, not inlined, to keep pages and the cache small.
IMAGE_BYTES = 96 * 1024
_IMAGE_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


@dataclass(frozen=True)
class Cell:
    text: str
    image: str | None = None  # a data: URI to show as a picture; ``text`` then names it
    null: bool = False


def image_type(data: bytes) -> str | None:
    """The MIME type of a picture browsers show, sniffed from its first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _IMAGE_TYPES if data.startswith(magic)), None)


def _image_cell(data: bytes | None, name: str | None) -> Cell:
    label = name.rsplit("/", 1)[-1] if name else "image"
    if data is None:
        return Cell(f"{label} (no picture data)")
    mime = image_type(data)
    if mime is None:
        return Cell(f"{label} ({len(data)} bytes, not a picture)")
    if len(data) > IMAGE_BYTES:
        return Cell(f"{label} ({mime}, {len(data) // 1024} kB: too large to show here)")
    return Cell(label, image=f"data:{mime};base64,{base64.b64encode(data).decode()}")


def _short(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _json_default(value: object) -> str:
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def cell(value: object, kind: str) -> Cell:
    if value is None:
        return Cell("null", null=True)
    if kind == "image" and isinstance(value, dict):
        return _image_cell(value.get("bytes"), value.get("path"))
    if isinstance(value, bytes):
        return _image_cell(value, None) if image_type(value) else Cell(f"<{len(value)} bytes>")
    if isinstance(value, bool):
        return Cell("true" if value else "false")
    if isinstance(value, dict | list):
        return Cell(_short(json.dumps(value, ensure_ascii=False, default=_json_default)))
    return Cell(_short(str(value)))


def table_cells(table: pa.Table, columns: list[Column]) -> list[list[Cell]]:
    """Each row's cells, by position (a CSV header may name two columns alike)."""
    values = [table.column(index).to_pylist() for index in range(table.num_columns)]
    return [
        [cell(value, c.kind) for value, c in zip(row, columns, strict=True)]
        for row in zip(*values, strict=True)
    ]
