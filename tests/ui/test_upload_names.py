"""A bad name on the upload page is refused before the files are sent: the page asks the plaza
about the names first, says what is wrong, and sends nothing."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from playwright.sync_api import Page, Request, expect

from tests.plaza_server import PlazaServer
from tests.ui.conftest import log_in

REPO = "alice/upload-names"
BIG = 8 * 1024 * 1024  # long enough to send that a refusal after it would be felt


@pytest.fixture(scope="module")
def repo(plaza: PlazaServer) -> str:
    HfApi(endpoint=plaza.url, token=plaza.tokens["alice"]).create_repo(REPO, exist_ok=True)
    return REPO


def test_a_bad_name_is_refused_before_a_byte_is_sent(page: Page, plaza: PlazaServer, repo: str):
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    log_in(page, "alice")
    page.goto(f"/{repo}/upload/main")
    page.get_by_label("Into folder (optional)").fill("data/../..")
    page.get_by_label("Files", exact=True).set_input_files(
        {"name": "weights.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * BIG}
    )
    status = page.locator("[data-upload-status]")
    # Said as soon as the file is chosen…
    expect(status).to_have_text("Invalid path 'data/../../weights.bin': empty, '.' or '..' segment")
    page.get_by_role("button", name="Upload and commit").click()
    # …and again when asked to upload, without sending it.
    expect(status).to_contain_text("Nothing was sent. Invalid path 'data/../../weights.bin'")
    expect(page.get_by_role("button", name="Upload and commit")).to_be_enabled()
    uploads = [r for r in sent if r.url == f"{plaza.url}/{repo}/upload/main"]
    checks = [r for r in sent if r.url == f"{plaza.url}/{repo}/upload/main/check"]
    assert uploads == [] and len(checks) == 2
    assert all(len(r.post_data_buffer or b"") < 1024 for r in checks)
    # With the folder put right, the same file goes up.
    page.get_by_label("Into folder (optional)").fill("data")
    page.get_by_role("button", name="Upload and commit").click()
    expect(page).to_have_url(f"{plaza.url}/{repo}/tree/main")
    assert HfApi(endpoint=plaza.url).list_repo_files(repo) == [".gitattributes", "data/weights.bin"]
