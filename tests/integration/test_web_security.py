"""What the pages and downloads tell a browser to protect the plaza's visitors: a policy that
runs only the plaza's own code, no framing, no sniffing, no Referer to other sites; files from a
repo that never run as the plaza; card facts that never link off-site; and a data directory
that other local users cannot read."""

from __future__ import annotations

import os
import stat
from html.parser import HTMLParser

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from tests.integration.test_web_accounts import browser, log_in
from tests.plaza_server import WORK_DIR, free_port, running_plaza

HTML = {"Accept": "text/html"}
PAGES = ("/", "/models", "/datasets", "/search?search=x", "/login", "/join", "/api/docs", "/no/such/page")


class Markup(HTMLParser):
    """What a policy of only the plaza's own scripts and styles would refuse in a page, and
    where its links go."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.hrefs: list[str] = []
        self._in: str | None = None
        self._script_type = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.inline.append(f"<{tag} {name}=…>")
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script" and not values.get("src"):
            self._in, self._script_type = "script", values.get("type") or ""

    def handle_data(self, data: str) -> None:
        # A JSON data block (type="application/json") is data, not a script: it never runs.
        if self._in == "script" and data.strip() and self._script_type != "application/json":
            self.inline.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in = None


def parsed(text: str) -> Markup:
    markup = Markup()
    markup.feed(text)
    return markup


def policy(response: httpx.Response) -> dict[str, str]:
    directives = (
        part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";")
    )
    return {parts[0]: parts[1] if len(parts) > 1 else "" for parts in directives}


def assert_protected(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert policy(response)["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("path", PAGES)
def test_pages_allow_only_the_plazas_own_scripts_and_styles(plaza, path):
    response = httpx.get(f"{plaza.url}{path}", headers=HTML)
    assert response.headers["content-type"].startswith("text/html")
    assert_protected(response)
    rules = policy(response)
    assert rules["default-src"] == "'self'"
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert rules["object-src"] == "'none'" and rules["base-uri"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    # …and the page needs nothing more: no inline script, style or event handler.
    assert parsed(response.text).inline == []


def test_the_pages_of_a_repo_and_of_its_owner_have_nothing_inline(plaza, api: HfApi, repo_name):
    dataset = f"alice/{repo_name}"
    api.create_repo(dataset, repo_type="dataset")
    rows = "x,label\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(30))
    api.upload_file(
        path_or_fileobj=rows.encode(), path_in_repo="data/train.csv", repo_id=dataset, repo_type="dataset"
    )
    with browser(plaza) as client:
        log_in(client, "alice")
        for path in (
            f"/datasets/{dataset}",
            f"/datasets/{dataset}/viewer/main",  # histograms and shares of values
            f"/datasets/{dataset}/tree/main",
            f"/datasets/{dataset}/blob/main/data/train.csv",
            f"/datasets/{dataset}/upload/main",
            f"/datasets/{dataset}/edit/main/README.md",
            "/alice",
            "/settings/tokens",
            "/new",
            "/jobs",
            f"/jobs/new?dataset={dataset}",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert_protected(response)
            assert parsed(response.text).inline == [], path


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("page.html", b"<html><script>alert(document.cookie)</script></html>"),
        ("picture.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ],
)
def test_a_downloaded_file_never_runs_as_the_plaza(plaza, api: HfApi, repo_id, name, content):
    api.upload_file(path_or_fileobj=content, path_in_repo=name, repo_id=repo_id)
    for url in (f"/{repo_id}/resolve/main/{name}", f"/api/models/{repo_id}/resolve/main/{name}"):
        for method in ("GET", "HEAD"):
            response = httpx.request(method, f"{plaza.url}{url}", headers=HTML)
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/octet-stream"
            assert_protected(response)
            rules = policy(response)
            assert rules["default-src"] == "'none'" and "sandbox" in rules


def test_api_answers_run_nothing_either(plaza):
    response = httpx.get(f"{plaza.url}/api/models")
    assert_protected(response)
    assert policy(response)["default-src"] == "'none'"


def test_card_facts_never_link_to_another_site(plaza, api: HfApi, repo_id):
    card = (
        "---\nbase_model:\n- /evil.example/x\n- //evil.example/y\n- https://evil.example/z\n"
        "- alice/a-base\ndatasets:\n- //evil.example/d\n---\n# Card\n"
    )
    api.upload_file(path_or_fileobj=card.encode(), path_in_repo="README.md", repo_id=repo_id)
    page = httpx.get(f"{plaza.url}/{repo_id}", headers=HTML).text
    hrefs = parsed(page).hrefs
    assert [h for h in hrefs if h.startswith("//") or "evil.example" in h.split("?")[0]] == []
    # A real repo id is a link to that model; the others are searches among the models.
    assert "/alice/a-base" in hrefs
    assert "/models?tag=base_model%3A%2Fevil.example%2Fx" in hrefs
    assert "/models?tag=base_model%3A%2F%2Fevil.example%2Fy" in hrefs


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_data_directory_is_for_its_owner_alone():
    data_dir = WORK_DIR / "modes" / "not-yet" / "plaza"
    assert not data_dir.exists()
    # The default database, a SQLite file in the data directory, whatever PLAZA_TEST_DATABASE says.
    with running_plaza("modes", free_port(), PLAZA_DATA_DIR=str(data_dir), PLAZA_DATABASE_URL="") as server:
        server.cli("admin", "create-user", "carol", "--password", "carol-password")
        api = HfApi(endpoint=server.url, token=server.token("carol"))
        api.create_repo("carol/kept")
        api.create_commit("carol/kept", [CommitOperationAdd("w.bin", os.urandom(4096))], commit_message="w")
        assert _mode(data_dir) == 0o700
        files = [path for path in data_dir.rglob("*") if path.is_file()]
        assert {"plaza.db", "secret.key"} <= {path.name for path in files}
        readable = {
            str(path.relative_to(data_dir)): oct(_mode(path)) for path in files if _mode(path) & 0o077
        }
        assert readable == {}
