"""Keep percent-encoded slashes inside one path segment.

Hugging Face clients send revisions and some paths with ``/`` encoded as ``%2F`` (a branch
``feature/x`` arrives as ``feature%2Fx``) and expect it to stay one segment. Routing normally
decodes ``%2F`` first. This middleware rebuilds the routed path from the raw one with ``%`` and
``/`` inside each segment still escaped; route handlers ``unquote`` their parameters once."""

from __future__ import annotations

from urllib.parse import quote, unquote, unquote_to_bytes

from modelplaza.http.errors import error_response


def _refusal(raw_path: bytes, query: bytes) -> str | None:
    """Why the URL is refused, if it is: no name, path or revision may hold a NUL (PostgreSQL
    could not even look it up), and each must be UTF-8, as the clients send them (decoding
    would otherwise turn each stray byte into U+FFFD, naming something else)."""
    path_bytes, query_bytes = unquote_to_bytes(raw_path), unquote_to_bytes(query)
    if b"\x00" in path_bytes or b"\x00" in query_bytes:
        return "Invalid request: URLs cannot contain NUL characters"
    try:
        path_bytes.decode()
        query_bytes.decode()
    except UnicodeDecodeError:
        return "Invalid request: the URL is not UTF-8 once its %-escapes are decoded"
    return None


def _segment(raw: str) -> str:
    return quote(unquote(raw), safe="".join(chr(c) for c in range(32, 127) if chr(c) not in "%/"))


class RawPathMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            refusal = _refusal(scope["raw_path"], scope["query_string"])
            if refusal:
                await error_response(400, refusal)(scope, receive, send)
                return
            raw = scope["raw_path"].decode("latin-1")
            scope = dict(scope, path="/".join(_segment(s) for s in raw.split("/")))
        await self.app(scope, receive, send)


def param(value: str) -> str:
    """A path parameter as the client meant it."""
    return unquote(value)
