"""Responses carrying a byte range of a blob file.

When the server offers the ASGI zero-copy send extension (``plaza serve`` does, see
``modelplaza.server``), the file is handed to the kernel with sendfile(2): the bytes go from the
page cache to the socket without passing through Python. Elsewhere they are streamed in chunks."""

from __future__ import annotations

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from modelplaza.storage import LocalBlobStore

ZEROCOPY = "http.response.zerocopy"
CHUNK = 4 << 20


class BlobResponse(StreamingResponse):
    """Bytes ``start..end`` (inclusive) of a stored blob, with the given status and headers."""

    def __init__(
        self,
        blobs: LocalBlobStore,
        sha256: str,
        start: int,
        end: int,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        # The generator opens nothing until iterated, which only the streaming fallback does.
        chunks = blobs.read_range(sha256, start, end, CHUNK)
        super().__init__(chunks, status_code, headers, media_type="application/octet-stream")
        self.path = blobs.path(sha256)
        self.offset = start
        self.count = end - start + 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if ZEROCOPY not in scope.get("extensions", {}) or self.count <= 0:
            await super().__call__(scope, receive, send)
            return
        with open(self.path, "rb") as file:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            await send({"type": ZEROCOPY, "file": file, "offset": self.offset, "count": self.count})
