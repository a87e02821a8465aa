"""Keep percent-encoded slashes inside one path segment.

Hugging Face clients send revisions and some paths with ``/`` encoded as ``%2F`` (a branch
``feature/x`` arrives as ``feature%2Fx``) and expect it to stay one segment. Routing normally
decodes ``%2F`` first. This middleware rebuilds the routed path from the raw one with ``%`` and
``/`` inside each segment still escaped; route handlers ``unquote`` their parameters once."""

from __future__ import annotations

from urllib.parse import quote, unquote, unquote_plus

from modelplaza.http.errors import error_response


def _segment(raw: str) -> str:
    return quote(unquote(raw), safe="".join(chr(c) for c in range(32, 127) if chr(c) not in "%/"))


class RawPathMiddleware:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope.get("raw_path"):
            raw = scope["raw_path"].decode("latin-1")
            if "\x00" in unquote(raw) or "\x00" in unquote_plus(scope["query_string"].decode("latin-1")):
                # No name, path or revision may hold a NUL; PostgreSQL could not even look it up.
                response = error_response(400, "Invalid request: URLs cannot contain NUL characters")
                await response(scope, receive, send)
                return
            scope = dict(scope, path="/".join(_segment(s) for s in raw.split("/")))
        await self.app(scope, receive, send)


def param(value: str) -> str:
    """A path parameter as the client meant it."""
    return unquote(value)
