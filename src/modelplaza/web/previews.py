"""What the file view shows of a file: its text (JSON pretty-printed, markdown rendered by the
page), the first megabyte of a long one, or nothing but its size for binary and huge files.
Bytes come from ``plaza.contents`` and only as many as are shown."""

from __future__ import annotations

import codecs
import json
from dataclasses import dataclass

from sqlalchemy.orm import Session

from modelplaza.hub.content import Contents
from modelplaza.hub.trees import FileEntry

SHOWN_LIMIT = 1_000_000  # bytes shown; a longer file is cut off here
LOAD_LIMIT = 10_000_000  # a larger file is not read at all
SNIFF = 8192  # a NUL byte this early means binary, as git decides
MARKDOWN = (".md", ".markdown")


@dataclass(frozen=True)
class Preview:
    kind: str  # "text" | "json" | "markdown" | "binary" | "too_large"
    text: str = ""
    truncated: bool = False

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def read_text(session: Session, contents: Contents, entry: FileEntry, limit: int = SHOWN_LIMIT) -> Preview:
    """The file's first ``limit`` bytes as text, or a binary preview when they are not text."""
    if entry.size == 0:
        return Preview("text")
    truncated = entry.size > limit
    data = b"".join(contents.read_range(session, entry.sha256, 0, min(entry.size, limit) - 1))
    if b"\x00" in data[:SNIFF]:
        return Preview("binary")
    # Incremental decoding drops a character cut in half by the limit instead of mangling it.
    text = codecs.getincrementaldecoder("utf-8")("replace").decode(data, final=not truncated)
    return Preview("text", text, truncated)


def preview(session: Session, contents: Contents, path: str, entry: FileEntry) -> Preview:
    if entry.size > LOAD_LIMIT:
        return Preview("too_large")
    shown = read_text(session, contents, entry)
    if shown.kind != "text":
        return shown
    lowered = path.lower()
    if lowered.endswith(MARKDOWN):
        return Preview("markdown", shown.text, shown.truncated)
    if lowered.endswith(".json") and not shown.truncated:
        try:
            pretty = json.dumps(json.loads(shown.text), indent=2, ensure_ascii=False)
        except ValueError:
            return shown  # Not valid JSON after all: show it as it is.
        return Preview("json", pretty)
    return shown
