"""Responses carrying a byte range of a committed file.

When the file is a whole blob and the server offers the ASGI zero-copy send extension (``plaza
serve`` does, see ``modelplaza.server``), the file is handed to the kernel with sendfile(2): the
bytes go from the page cache to the socket without passing through Python. Elsewhere (and for
files kept as Xet chunks) they are streamed in pieces. A store that serves its objects itself
(presigned URLs) answers with a redirect."""

from __future__ import annotations

from collections.abc import Iterator

from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from modelplaza.http.threads import in_thread
from modelplaza.storage import Delivery, LocalFile, Redirect, Stream

ZEROCOPY = "http.response.zerocopy"


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
    """The bytes, streamed from ``chunks`` or sent with zero copy from ``file`` when there is one."""

    def __init__(
        self,
        chunks: Iterator[bytes],
        file: LocalFile | None,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        # The chunks open nothing until iterated, which only the streaming path does.
        super().__init__(chunks, status_code, headers, media_type="application/octet-stream")
        self.path = file.path if file else None
        self.offset = file.offset if file else 0
        self.count = file.length if file else 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path is None or ZEROCOPY not in scope.get("extensions", {}) or self.count <= 0:
            await super().__call__(scope, receive, send)
            return
        with await in_thread(open, self.path, "rb") as file:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            await send({"type": ZEROCOPY, "file": file, "offset": self.offset, "count": self.count})
