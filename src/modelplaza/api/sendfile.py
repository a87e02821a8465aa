"""Responses carrying a byte range of a committed file.

When the file is a whole blob and the server offers the ASGI zero-copy send extension (``plaza
serve`` does, see ``modelplaza.server``), the file is handed to the kernel with sendfile(2): the
bytes go from the page cache to the socket without passing through Python. Elsewhere (and for
files kept as Xet chunks) they are streamed in pieces."""

from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from modelplaza.http.threads import in_thread
from modelplaza.hub.content import Opened

ZEROCOPY = "http.response.zerocopy"


class ContentResponse(StreamingResponse):
    """The opened bytes, with the given status and headers."""

    def __init__(
        self, opened: Opened, *, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        # The chunks open nothing until iterated, which only the streaming path does.
        super().__init__(opened.chunks, status_code, headers, media_type="application/octet-stream")
        self.path = opened.path
        self.offset = opened.start
        self.count = opened.end - opened.start + 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.path is None or ZEROCOPY not in scope.get("extensions", {}) or self.count <= 0:
            await super().__call__(scope, receive, send)
            return
        with await in_thread(open, self.path, "rb") as file:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            await send({"type": ZEROCOPY, "file": file, "offset": self.offset, "count": self.count})
