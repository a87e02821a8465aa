"""The content response: a byte range of a stored file, sent the cheapest way the server offers.

Content-Length is the response's own (the length of the range it was given), whichever way the
bytes go:

- the whole of a file on disk, when the server offers ``http.response.pathsend``: the server reads
  the file itself, no byte passes through Python;
- a range of a file on disk, when the server offers ``http.response.zerocopysend``: the file is
  handed over with an offset and a count, for sendfile(2);
- otherwise (and for files kept as Xet chunks) the bytes are streamed in pieces."""

from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from modelplaza.hub.content import Opened

PATHSEND = "http.response.pathsend"
ZEROCOPYSEND = "http.response.zerocopysend"


class ContentResponse(StreamingResponse):
    """The opened bytes, with the given status and headers."""

    def __init__(
        self, opened: Opened, *, status_code: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.count = max(opened.end - opened.start + 1, 0)
        headers = {**(headers or {}), "Content-Length": str(self.count)}
        # The chunks open nothing until iterated, which only the streaming path does.
        super().__init__(opened.chunks, status_code, headers, media_type="application/octet-stream")
        self.path = opened.path
        self.offset = opened.start
        self.whole = opened.start == 0 and self.count == opened.size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.get("extensions") or {}
        if self.path is None or not self.count:
            await super().__call__(scope, receive, send)
        elif self.whole and PATHSEND in extensions:
            await self._start(send)
            await send({"type": PATHSEND, "path": str(self.path)})
        elif ZEROCOPYSEND in extensions:
            with open(self.path, "rb") as file:
                await self._start(send)
                await send({"type": ZEROCOPYSEND, "file": file, "offset": self.offset, "count": self.count})
        else:
            await super().__call__(scope, receive, send)

    async def _start(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
