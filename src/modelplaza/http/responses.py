"""The content response: a byte range of a stored file, sent the cheapest way the store and the
server allow.

A store that serves its objects itself (presigned URLs) answers with a redirect. Otherwise the
response owns Content-Length (the length of the range it was given), whichever way the bytes go:

- the whole of a file on disk, when the server offers ``http.response.pathsend`` (``plaza
  serve`` does): the server reads the file itself, no byte passes through Python;
- a range of a file on disk, when the server offers ``http.response.zerocopysend``: the file is
  handed over with an offset and a count, for sendfile(2);
- otherwise (and for files kept as Xet chunks) the bytes are streamed in pieces."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from modelplaza.http.threads import in_thread
from modelplaza.storage import Delivery, LocalFile, Redirect, Stream

PATHSEND = "http.response.pathsend"
ZEROCOPYSEND = "http.response.zerocopysend"


def delivery_response(delivery: Delivery, *, status_code: int = 200, headers: dict[str, str]) -> Response:
    """The delivered bytes, with the given status and headers (a redirect keeps the headers
    that describe the file and drops those that describe the body)."""
    match delivery:
        case Redirect(url):
            kept = {k: v for k, v in headers.items() if k not in ("Content-Length", "Content-Range")}
            return Response(status_code=302, headers={**kept, "Location": url})
        case LocalFile():
            return ContentResponse(delivery.chunks(), delivery, status_code=status_code, headers=headers)
        case Stream(chunks):
            return ContentResponse(chunks, None, status_code=status_code, headers=headers)


class ContentResponse(StreamingResponse):
    """The bytes, streamed from ``chunks``, or sent by the server from ``file`` when there is one."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        file: LocalFile | None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        headers = dict(headers or {})
        if file is not None:
            headers["Content-Length"] = str(file.length)
        # The chunks open nothing until iterated, which only the streaming path does.
        super().__init__(chunks, status_code, headers, media_type="application/octet-stream")
        self.file = file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        file = self.file
        if file is None or not file.length:
            await super().__call__(scope, receive, send)
        elif file.whole and PATHSEND in extensions:
            await self._start(send)
            await send({"type": PATHSEND, "path": str(file.path)})
        elif ZEROCOPYSEND in extensions:
            with await in_thread(open, file.path, "rb") as opened:
                await self._start(send)
                await send(
                    {"type": ZEROCOPYSEND, "file": opened, "offset": file.offset, "count": file.length}
                )
        else:
            await super().__call__(scope, receive, send)

    async def _start(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
