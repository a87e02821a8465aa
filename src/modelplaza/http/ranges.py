"""The Range request header (RFC 9110), as downloads of files and of Xet xorbs read it."""

from __future__ import annotations

import re

from modelplaza.errors import RangeNotSatisfiable

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.ASCII)
# More digits than any file's size has: such a position lies past the end of every file.
_MAX_DIGITS = 19


def _position(digits: str) -> int:
    """A byte position; one too long to convert (thousands of digits) is past any end."""
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a Range header asks for; None for the whole file."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None  # Multi-range or malformed: RFC 9110 lets us answer with the whole file.
    first, last = match.groups()
    if first == "":
        start, end = max(size - _position(last), 0), size - 1
    else:
        start, end = _position(first), min(_position(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(size)
    return start, end
