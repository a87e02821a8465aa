"""Query parameters the pages share, checked the same way everywhere: a bad one is a 400 page
that says what was expected."""

from __future__ import annotations

from starlette.datastructures import QueryParams

from modelplaza.errors import BadRequest

MAX_PAGE = 100_000


def whole_number(raw: str | None, what: str, default: int, maximum: int) -> int:
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= maximum):
        raise BadRequest(f"{what} must be a whole number from 1 to {maximum}, not {raw[:40]!r}")
    return int(raw)


def page_number(raw: str | None) -> int:
    return whole_number(raw, "The page number", 1, MAX_PAGE)


def search_words(params: QueryParams) -> str:
    """What the visitor searched for: ``?search=``, the Hub's parameter, or ``?q=``."""
    return (params.get("search") or params.get("q") or "").strip()
