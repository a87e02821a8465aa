"""Each blob store delivery answer becomes the response it asks for."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from modelplaza.http.responses import delivery_response
from modelplaza.storage import LocalFile, Redirect, Stream

HEADERS = {"ETag": '"abc"', "Content-Length": "4", "Content-Range": "bytes 2-5/10"}


def _get(delivery):
    app = Starlette(
        routes=[Route("/", lambda _: delivery_response(delivery, status_code=206, headers=HEADERS))]
    )
    return TestClient(app).get("/", follow_redirects=False)


def test_a_redirect_keeps_the_file_headers_and_drops_the_body_ones():
    answer = _get(Redirect("https://objects.example/blob?sig=1"))
    assert answer.status_code == 302
    assert answer.headers["location"] == "https://objects.example/blob?sig=1"
    assert answer.headers["etag"] == '"abc"' and "content-range" not in answer.headers
    assert answer.headers["content-length"] == "0"


def test_a_local_file_sends_its_range(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(b"0123456789")
    answer = _get(LocalFile(path, 2, 4, 10))
    assert answer.status_code == 206 and answer.content == b"2345"
    assert answer.headers["content-range"] == "bytes 2-5/10"


def test_a_stream_sends_its_chunks():
    answer = _get(Stream(iter([b"23", b"45"])))
    assert answer.status_code == 206 and answer.content == b"2345"
