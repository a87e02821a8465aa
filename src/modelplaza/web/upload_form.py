"""Receiving the upload form. The page's script sends its files as multipart/form-data with the
CSRF token in a header: each file part then streams into its own blob writer as it arrives,
never whole in memory nor copied to a temporary file first. A form sent without the script
carries its token in the body, so the CSRF check has read it already (Starlette spools its files
to temporary files); its files are copied from there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import UploadFile
from starlette.requests import Request

from modelplaza.db.blobs import register_blob
from modelplaza.errors import BadRequest, PayloadTooLarge, PlazaError
from modelplaza.http.limits import BodyLimit, BodyTooLarge
from modelplaza.http.threads import in_thread
from modelplaza.hub.received import SAMPLE_SIZE, ReceivedFile
from modelplaza.names import check_path
from modelplaza.plaza import Plaza
from modelplaza.storage import BlobTooLarge, BlobWriter
from modelplaza.web.sessions import CSRF_HEADER

if TYPE_CHECKING:  # python-multipart declares it for type checkers only
    from python_multipart.multipart import MultipartCallbacks

MAX_FILES = 1000
# One form carries at most a file of the largest size a file may have (its files in all), and
# its fields; larger uploads go through the API.
UPLOAD_BODY = BodyLimit(
    "An upload from the page", lambda s: s.max_file_size + s.max_body_size, "max_file_size"
)
MAX_FIELD = 64 * 1024
BATCH = 4 << 20  # bytes received before they are written, in a worker thread
COPY_CHUNK = 1 << 20


def upload_path(folder: str, name: str) -> str:
    """Where a file sent as ``name`` into ``folder`` lands in the repo; InvalidPath if nowhere."""
    folder = folder.strip().strip("/")
    return check_path(f"{folder}/{name}" if folder else name)


def path_problems(folder: str, names: list[str]) -> list[str]:
    """Why the files named would be refused, one line each (none when all can be uploaded):
    what the page asks before it sends a byte of them."""
    if len(names) > MAX_FILES:
        return [f"Upload at most {MAX_FILES} files at once"]
    problems = []
    for name in names:
        try:
            upload_path(folder, name)
        except PlazaError as exc:
            problems.append(exc.message)
    return problems


@dataclass
class ReceivedForm:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)


class _FileSink:
    """One file being received: its bytes go to a blob writer, its first ones kept as a sample."""

    def __init__(self, plaza: Plaza, path: str) -> None:
        self.plaza = plaza
        self.path = path
        # Opened by the first write, in a worker thread: the parser that finds the file part
        # runs on the event loop.
        self.writer: BlobWriter | None = None
        self.sample = b""

    def _opened(self) -> BlobWriter:
        if self.writer is None:
            self.writer = self.plaza.blobs.writer(max_size=self.plaza.settings.max_file_size)
        return self.writer

    def write(self, chunk: bytes) -> None:
        if len(self.sample) < SAMPLE_SIZE:
            self.sample += chunk[: SAMPLE_SIZE - len(self.sample)]
        try:
            self._opened().write(chunk)
        except BlobTooLarge:
            raise PayloadTooLarge(
                f"{self.path} is larger than the limit of {self.plaza.settings.max_file_size} bytes: "
                "nothing was committed"
            ) from None

    def finish(self) -> ReceivedFile:
        info = self._opened().finish()
        # Registered at once, so that garbage collection frees it if no commit ever uses it.
        with self.plaza.db.write() as session:
            register_blob(session, info.sha256, info.size)
        return ReceivedFile(self.path, info.sha256, info.size, self.sample)


class _Receiver:
    """Collects the form's fields and its files' bytes. Parser callbacks only queue file bytes;
    ``flush`` writes them, in a worker thread, so hashing and disk writes leave the event loop free."""

    def __init__(self, plaza: Plaza) -> None:
        self.plaza = plaza
        self.form = ReceivedForm()
        self._queue: list[tuple[_FileSink, bytes | None]] = []  # None: the file is complete
        self.queued = 0
        self._open: list[_FileSink] = []

    def open_file(self, filename: str) -> _FileSink:
        if len(self.form.files) + len(self._open) >= MAX_FILES:
            raise BadRequest(f"Upload at most {MAX_FILES} files at once")
        # Checked where it will land (the folder field comes before the files), before any of
        # its bytes are read.
        upload_path(self.form.fields.get("folder", ""), filename)
        sink = _FileSink(self.plaza, filename)
        self._open.append(sink)
        return sink

    def queue(self, sink: _FileSink, chunk: bytes | None) -> None:
        self._queue.append((sink, chunk))
        self.queued += len(chunk or b"")

    def flush(self) -> None:
        queue, self._queue, self.queued = self._queue, [], 0
        for sink, chunk in queue:
            if chunk is not None:
                sink.write(chunk)
            else:
                self._open.remove(sink)
                self.form.files.append(sink.finish())

    def abort(self) -> None:
        for sink in self._open:
            if sink.writer is not None:
                sink.writer.abort()
        self._open.clear()
        self._queue.clear()


class _PartParser:
    """python-multipart callbacks: headers tell a file part from a field, data goes to either."""

    def __init__(self, receiver: _Receiver) -> None:
        self.receiver = receiver
        self.headers: dict[bytes, bytes] = {}
        self.header_field = self.header_value = b""
        self.field_name: str | None = None
        self.field_value = bytearray()
        self.sink: _FileSink | None = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.headers.clear,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header_field.lower()] = self.header_value
        self.header_field = self.header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition"))
        self.sink, self.field_name = None, None
        if b"filename" in options:
            # An empty file input still sends a part, without a name: nothing was chosen.
            filename = options[b"filename"].decode("utf-8", "replace")
            self.sink = self.receiver.open_file(filename) if filename else None
        else:
            self.field_name = options.get(b"name", b"").decode("utf-8", "replace")
            self.field_value = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is not None:
            self.receiver.queue(self.sink, data[start:end])
        elif self.field_name is not None:
            self.field_value += data[start:end]
            if len(self.field_value) > MAX_FIELD:
                raise BadRequest(f"The form field {self.field_name!r} is too long")

    def on_part_end(self) -> None:
        if self.sink is not None:
            self.receiver.queue(self.sink, None)
        elif self.field_name is not None:
            self.receiver.form.fields[self.field_name] = self.field_value.decode("utf-8", "replace")


async def receive_form(request: Request, plaza: Plaza) -> ReceivedForm:
    """The form's fields, and its files stored and registered as blobs; PayloadTooLarge when a
    file exceeds ``max_file_size`` (after the rest of the body was read, so the browser sees
    the answer)."""
    receiver = _Receiver(plaza)
    try:
        if request.headers.get(CSRF_HEADER) is None:
            await _copy_parsed_form(request, receiver)
        else:
            await _stream(request, receiver)
    except BaseException:
        receiver.abort()  # Also on cancellation, which no thread could be awaited for.
        raise
    return receiver.form


async def _stream(request: Request, receiver: _Receiver) -> None:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in options:
        raise BadRequest("Send the files as multipart/form-data")
    parser = MultipartParser(options[b"boundary"], _PartParser(receiver).callbacks())
    body = request.stream()
    try:
        async for chunk in body:
            parser.write(chunk)
            if receiver.queued >= BATCH:
                await in_thread(receiver.flush)
        parser.finalize()
        await in_thread(receiver.flush)
    except BodyTooLarge:
        await in_thread(receiver.abort)
        raise  # What is left stays unread: the answer closes the connection.
    except (PlazaError, MultipartParseError) as exc:
        await in_thread(receiver.abort)
        async for _ in body:
            pass  # Read what is left: a browser that is still sending would see a reset, not the answer.
        if isinstance(exc, MultipartParseError):
            raise BadRequest(f"The upload is not valid multipart/form-data: {exc}") from None
        raise


async def _copy_parsed_form(request: Request, receiver: _Receiver) -> None:
    form = await request.form(max_files=MAX_FILES)
    for name, value in form.multi_items():
        if isinstance(value, str):
            receiver.form.fields[name] = value
    files = [v for v in form.getlist("files") if isinstance(v, UploadFile) and v.filename]
    await in_thread(_copy_files, receiver, files)


def _copy_files(receiver: _Receiver, files: list[UploadFile]) -> None:
    for upload in files:
        sink = receiver.open_file(upload.filename or "")
        upload.file.seek(0)
        while chunk := upload.file.read(COPY_CHUNK):
            receiver.queue(sink, chunk)
            receiver.flush()
        receiver.queue(sink, None)
        receiver.flush()
