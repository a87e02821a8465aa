"""Input that the server could not handle: credentials and links with other characters than
they are made of, a Range of thousands of digits, lone surrogates in JSON, URLs that are not
UTF-8, numbers beyond the database's 64 bits, a search of 60 KB and JSON of the wrong types.
Each gets a 4xx with a message, never a 500, and changes nothing.

And the connection: an answer given before the request's body was read (a refusal, or a
server error if one still happens) leaves the connection usable for the next request, or says
``Connection: close`` when the body is too large to read through."""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import httpx
import pytest
from huggingface_hub import HfApi

from tests.integration.test_bad_input import INVALID_CREDENTIALS, _assert_clean_error, _auth, _state
from tests.integration.test_web_accounts import browser, csrf, log_in
from tests.plaza_server import PlazaServer, free_port, running_plaza

LARGEST_ID = 2**31 - 1  # ids are 32-bit in PostgreSQL
LARGEST = 2**63 - 1
HUGE = str(10**30)
SURROGATE = "lone surrogate"


@pytest.fixture
def repo_id(api, repo_id) -> str:
    """alice's fresh repo, holding a file."""
    api.upload_file(path_or_fileobj=b"keep me\n", path_in_repo="keep.txt", repo_id=repo_id)
    return repo_id


def _json_post(plaza, url: str, text: str, user: str = "alice") -> httpx.Response:
    """POST JSON text as it is: a client library would refuse to encode a lone surrogate."""
    headers = {**_auth(plaza, user), "Content-Type": "application/json"}
    return httpx.post(f"{plaza.url}{url}", content=text.encode(), headers=headers, timeout=30)


# ---------------------------------------------------------------- credentials and links


@pytest.mark.parametrize("token", ["plz_é", "plzjob_é.é", "plzjob_e30.sïg", "é"])
def test_credentials_with_other_characters_are_invalid(plaza, repo_id, token):
    header = {"Authorization": f"Bearer {token}".encode()}
    whoami = httpx.get(f"{plaza.url}/api/whoami-v2", headers=header)
    _assert_clean_error(whoami, 401, INVALID_CREDENTIALS)
    upload = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/preupload/main", json={"files": []}, headers=header
    )
    _assert_clean_error(upload, 401, INVALID_CREDENTIALS)


def test_cas_tokens_with_other_characters_are_invalid(plaza):
    header = {"Authorization": "Bearer é.é".encode()}
    reconstruction = httpx.get(f"{plaza.url}/cas/v1/reconstructions/{'0' * 64}", headers=header)
    _assert_clean_error(reconstruction, 401, INVALID_CREDENTIALS)
    xorb = httpx.post(f"{plaza.url}/cas/v1/xorbs/default/{'0' * 64}", content=b"x", headers=header)
    _assert_clean_error(xorb, 401, INVALID_CREDENTIALS)


def test_signed_links_with_other_characters_are_unknown(plaza):
    link = quote("é.é")
    _assert_clean_error(httpx.get(f"{plaza.url}/api/lfs/objects/{link}"), 404, "Unknown or expired link")
    upload = httpx.put(f"{plaza.url}/api/lfs/objects/{link}", content=b"bytes")
    _assert_clean_error(upload, 404, "Unknown or expired link")
    xorb = httpx.get(f"{plaza.url}/cas/v1/xorbs/default/{'0' * 64}?sig={link}")
    _assert_clean_error(xorb, 401, INVALID_CREDENTIALS)


def test_a_form_token_with_other_characters_is_refused(plaza):
    for cookie, sent in (("plain", "plaïn"), ("plaïn", "plain")):
        response = httpx.post(
            f"{plaza.url}/login",
            data={"username": "alice", "password": "alice-password"},
            headers={"Cookie": f"plaza_csrf={cookie}".encode(), "X-CSRF-Token": sent.encode()},
        )
        assert response.status_code == 403, response.text
        assert "did not come from this site" in response.text


# ---------------------------------------------------------------- Range


@pytest.mark.parametrize(
    ("header", "status", "body"),
    [
        (f"bytes={'9' * 5000}-", 416, b""),
        (f"bytes=0-{'9' * 5000}", 206, b"keep me\n"),
        (f"bytes=-{'9' * 5000}", 206, b"keep me\n"),
        (f"bytes=2-{'9' * 30}", 206, b"ep me\n"),
    ],
)
def test_range_positions_of_any_length(plaza, repo_id, header, status, body):
    url = f"{plaza.url}/{repo_id}/resolve/main/keep.txt"
    response = httpx.get(url, headers={**_auth(plaza), "Range": header})
    assert response.status_code == status, response.text
    if status == 416:
        assert response.headers["Content-Range"] == "bytes */8"
    else:
        assert response.content == body


# ---------------------------------------------------------------- text that is not Unicode


def _commit_lines(*lines: str) -> str:
    return "\n".join(lines)


HEADER = '{"key": "header", "value": {"summary": "fine"}}'
SURROGATE_COMMITS = {
    "summary": '{"key": "header", "value": {"summary": "half \\ud800"}}',
    "description": '{"key": "header", "value": {"summary": "s", "description": "\\udfff"}}',
    "file-path": _commit_lines(
        HEADER, '{"key": "file", "value": {"path": "\\ud83d.txt", "content": "eA=="}}'
    ),
    "deleted-path": _commit_lines(HEADER, '{"key": "deletedFile", "value": {"path": "a\\ud800"}}'),
    "key": _commit_lines(HEADER, '{"key": "\\ud800", "value": {}}'),
}


@pytest.mark.parametrize("case", SURROGATE_COMMITS, ids=list(SURROGATE_COMMITS))
def test_lone_surrogates_in_commits_are_refused(plaza, api, repo_id, case):
    before = _state(api, repo_id)
    response = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/commit/main",
        content=SURROGATE_COMMITS[case].encode(),
        headers={**_auth(plaza), "Content-Type": "application/x-ndjson"},
    )
    _assert_clean_error(response, 400, SURROGATE, "\\ud")
    assert _state(api, repo_id) == before


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/api/models/{repo_id}/tag/main", '{"tag": "v\\ud800"}'),
        ("/api/models/{repo_id}/tag/main", '{"tag": "v1", "message": "\\ud800"}'),
        ("/api/models/{repo_id}/branch/dev", '{"startingPoint": "\\ud800"}'),
        ("/api/models/{repo_id}/preupload/main", '{"files": [{"path": "\\ud800", "size": 1}]}'),
        ("/api/repos/create", '{"name": "x\\udc00"}'),
        ("/api/validate-yaml", '{"content": "---\\nlicense: \\ud800\\n---\\n"}'),
        ("/{repo_id}.git/info/lfs/objects/batch", '{"operation": "upload", "objects": [{"oid": "\\ud800"}]}'),
    ],
)
def test_lone_surrogates_in_json_bodies_are_refused(plaza, api, repo_id, url, text):
    before = _state(api, repo_id), api.list_repo_refs(repo_id)
    _assert_clean_error(_json_post(plaza, url.format(repo_id=repo_id), text), 400, SURROGATE)
    assert (_state(api, repo_id), api.list_repo_refs(repo_id)) == before


@pytest.mark.parametrize("path", ["/api/models/{repo_id}/tree/main/%FF", "/{repo_id}/resolve/main/%ED%A0%80"])
def test_urls_that_are_not_utf8_are_refused(plaza, repo_id, path):
    for url in (path, "/api/models?search=%E9t%E9"):
        response = httpx.get(plaza.url + url.format(repo_id=repo_id), headers=_auth(plaza))
        _assert_clean_error(response, 400, "not UTF-8")


# ---------------------------------------------------------------- numbers and lengths


@pytest.mark.parametrize(
    ("method", "url", "problem"),
    [
        ("GET", f"/api/jobs/{HUGE}", f"job_id: Input should be less than or equal to {LARGEST_ID}"),
        ("GET", f"/api/jobs/-{HUGE}", "job_id: Input should be greater than or equal to 1"),
        (
            "GET",
            f"/api/jobs/{LARGEST_ID + 1}/events",
            f"job_id: Input should be less than or equal to {LARGEST_ID}",
        ),
        ("GET", f"/api/jobs/{HUGE}/logs", "job_id"),
        ("GET", f"/api/jobs/{HUGE}/stream", "job_id"),
        ("POST", f"/api/jobs/{HUGE}/cancel", "job_id"),
        ("GET", f"/api/jobs?offset={HUGE}", f"offset: Input should be less than or equal to {LARGEST}"),
        ("GET", f"/api/jobs/1/events?after={LARGEST_ID + 1}", "after"),
        ("GET", f"/api/jobs/1/stream?after={HUGE}", "after"),
    ],
)
def test_numbers_too_large_for_the_database_are_refused(plaza, method, url, problem):
    response = httpx.request(method, f"{plaza.url}{url}", headers=_auth(plaza))
    _assert_clean_error(response, 400, problem)


def test_a_job_recipe_that_is_not_unicode_is_refused(plaza):
    response = _json_post(plaza, "/api/jobs", '{"recipe": "model: \\ud800"}')
    _assert_clean_error(response, 400, "recipe", "unicode string")


def test_the_largest_job_id_is_simply_not_found(plaza):
    response = httpx.get(f"{plaza.url}/api/jobs/{LARGEST_ID}", headers=_auth(plaza))
    _assert_clean_error(response, 404, "not found")
    response = httpx.get(f"{plaza.url}/api/jobs?offset={LARGEST}", headers=_auth(plaza))
    assert response.status_code == 200 and response.json() == []


def test_a_huge_last_event_id_is_refused(plaza):
    headers = {**_auth(plaza), "Last-Event-ID": HUGE}
    response = httpx.get(f"{plaza.url}/api/jobs/1/stream", headers=headers)
    _assert_clean_error(response, 400, str(LARGEST_ID))


def test_ids_too_large_for_the_database_on_the_pages(plaza):
    with browser(plaza) as client:
        assert log_in(client, "alice").status_code == 303
        page = client.get(f"/jobs/{LARGEST_ID + 1}")
        assert page.status_code == 404 and "not found" in page.text
        revoke = client.post(f"/settings/tokens/{HUGE}/revoke", data={"csrf_token": csrf(client)})
        assert revoke.status_code == 400 and str(LARGEST_ID) in revoke.text


@pytest.mark.parametrize("url", ["/api/models?search=", "/api/datasets?search="])
def test_a_search_of_60_kb_is_refused(plaza, url):
    _assert_clean_error(httpx.get(f"{plaza.url}{url}{'a' * 60_000}"), 400, "too long", "256")
    assert httpx.get(f"{plaza.url}{url}{'a' * 256}").json() == []


def test_a_search_of_60_kb_is_refused_on_the_pages(plaza):
    response = httpx.get(f"{plaza.url}/models", params={"q": "a" * 60_000})
    assert response.status_code == 400
    assert "The search is too long" in response.text


# ---------------------------------------------------------------- JSON of the wrong types


@pytest.mark.parametrize(
    ("url", "text", "fragment"),
    [
        ("/api/models/{repo_id}/preupload/main", '{"files": [], "gitIgnore": 5}', "gitIgnore"),
        ("/api/models/{repo_id}/preupload/main", '{"files": [], "gitIgnore": ["*.bin"]}', "gitIgnore"),
        ("/api/models/{repo_id}/preupload/main", '{"files": [{"path": "a", "sample": "¹"}]}', "base64"),
        ("/api/models/{repo_id}/preupload/main", "[" * 100_000, "not valid JSON"),
        ("/api/repos/create", '{"name": "x", "organization": [null, null]}', "Invalid namespace"),
        ("/api/models/{repo_id}/tag/main", "{" * 100_000, "not valid JSON"),
    ],
)
def test_json_of_the_wrong_types_is_refused(plaza, api, repo_id, url, text, fragment):
    before = _state(api, repo_id)
    _assert_clean_error(_json_post(plaza, url.format(repo_id=repo_id), text), 400, fragment)
    assert _state(api, repo_id) == before


def test_deleting_with_an_organization_of_the_wrong_type_is_refused(plaza, api, repo_id):
    response = httpx.request(
        "DELETE",
        f"{plaza.url}/api/repos/delete",
        content=json.dumps({"name": repo_id.split("/")[1], "organization": ["alice"]}).encode(),
        headers={**_auth(plaza), "Content-Type": "application/json"},
    )
    _assert_clean_error(response, 400, "Invalid namespace")
    assert api.repo_exists(repo_id)


@pytest.mark.parametrize(
    "line",
    [
        '{"key": "file", "value": {"path": "a.txt", "content": "é"}}',
        "[" * 100_000,
    ],
)
def test_commit_lines_of_the_wrong_types_are_refused(plaza, api, repo_id, line):
    before = _state(api, repo_id)
    response = httpx.post(
        f"{plaza.url}/api/models/{repo_id}/commit/main",
        content=f"{HEADER}\n{line}".encode(),
        headers={**_auth(plaza), "Content-Type": "application/x-ndjson"},
    )
    _assert_clean_error(response, 400)
    assert _state(api, repo_id) == before


# ---------------------------------------------------------------- the connection


def _connection(server: PlazaServer) -> http.client.HTTPConnection:
    address = urlsplit(server.url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=30)


def _health_on(connection: http.client.HTTPConnection) -> int:
    """A request on the same socket: http.client would reconnect silently only after a
    ``Connection: close``, which the callers rule out first."""
    port = connection.sock.getsockname()[1]
    connection.request("GET", "/api/health")
    answer = connection.getresponse()
    answer.read()
    assert connection.sock.getsockname()[1] == port
    return answer.status


def test_a_refusal_before_the_body_is_read_keeps_the_connection(plaza, repo_id):
    connection = _connection(plaza)
    body = json.dumps({"files": [{"path": f"f{i}.bin", "size": 1} for i in range(8000)]}).encode()
    assert len(body) > 200_000  # more than the server holds buffered
    connection.request(
        "POST",
        f"/api/models/{repo_id}/preupload/main",
        body=body,
        headers={"Authorization": "Bearer plz_wrong", "Content-Type": "application/json"},
    )
    answer = connection.getresponse()
    assert answer.status == 401 and json.loads(answer.read())["error"] == INVALID_CREDENTIALS
    assert answer.getheader("Connection") is None
    assert _health_on(connection) == 200


def test_a_body_too_large_to_read_through_closes_the_connection_openly(plaza, repo_id):
    connection = _connection(plaza)
    connection.request(
        "POST",
        # A commit may be far larger than the 1 MiB the plaza reads through before answering.
        f"/api/models/{repo_id}/commit/main",
        body=b" " * (2 << 20),
        headers={"Authorization": "Bearer plz_wrong", "Content-Type": "application/x-ndjson"},
    )
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 401
    assert answer.getheader("Connection") == "close"


@pytest.fixture
def broken_store_plaza() -> Iterator[PlazaServer]:
    """A plaza whose blob store cannot take new files: where uploads are written while they
    arrive is a file, not a folder, so the next upload fails as a full or broken disk would."""
    with running_plaza("broken-store", free_port()) as server:
        server.cli("admin", "create-user", "alice", "--password", "alice-password")
        server.tokens["alice"] = server.token("alice")
        yield server


def test_a_server_error_keeps_the_connection_and_logs_no_link(broken_store_plaza):
    server = broken_store_plaza
    api = HfApi(endpoint=server.url, token=server.tokens["alice"])
    api.create_repo("alice/broken")
    data = b"z" * 300_000
    batch = httpx.post(
        f"{server.url}/alice/broken.git/info/lfs/objects/batch",
        json={
            "operation": "upload",
            "objects": [{"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}],
        },
        headers={"Authorization": f"Bearer {server.tokens['alice']}"},
    )
    (obj,) = batch.json()["objects"]
    link = obj["actions"]["upload"]["href"]
    uploads = server.data_dir / "blobs" / "tmp"
    shutil.rmtree(uploads)
    uploads.write_text("not a folder")

    connection = _connection(server)
    connection.request("PUT", urlsplit(link).path, body=data)
    answer = connection.getresponse()
    message = json.loads(answer.read())["error"]
    assert answer.status == 500 and "the plaza's log has the details" in message
    assert answer.getheader("Connection") is None
    assert _health_on(connection) == 200
    log = server.log.read_text()
    assert "unexpected error on PUT /api/lfs/objects/{link}" in log
    assert urlsplit(link).path.rsplit("/", 1)[1] not in log
