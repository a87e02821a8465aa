"""Publishing from the browser: alice creates a private model, drops files on the upload page,
writes the card with its preview, deletes a file, makes a branch and a tag, and changes the
settings; bob, forged forms and oversized files are refused."""

from __future__ import annotations

import hashlib
import io
import re

import httpx
import pytest
from huggingface_hub import HfApi
from playwright.sync_api import Browser, Page, expect

from tests.plaza_server import MAX_FILE_SIZE, PlazaServer
from tests.ui.conftest import log_in, screenshot

BIG = 12 * 1024 * 1024
NOTES = "Notes written in the browser.\n"
CARD = "---\nlicense: mit\ntags:\n- demo\n---\n\n# Tiny demo\n\nA model made **in the browser**.\n"

# Builds a DataTransfer in the page, as a drag from the desktop would bring: a small text file
# and a binary file of BIG bytes (i % 251, so it holds NULs).
DRAGGED = """([notes, big]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([notes], "notes.txt", { type: "text/plain" }));
  const bytes = new Uint8Array(big);
  for (let i = 0; i < big; i++) bytes[i] = i % 251;
  transfer.items.add(new File([bytes], "weights.bin"));
  return transfer;
}"""


def big_file_sha256() -> str:
    pattern = bytes(range(251))
    return hashlib.sha256((pattern * (BIG // 251 + 1))[:BIG]).hexdigest()


@pytest.fixture(scope="module")
def api(plaza: PlazaServer) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])


def csrf_headers(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "plaza_csrf")
    return {"X-CSRF-Token": token, "Accept": "application/json"}


def test_new_repo_form_keeps_values_on_errors_and_creates_the_repo(page: Page, api: HfApi):
    log_in(page, "alice")
    page.goto("/new")
    expect(page.get_by_label("Owner")).to_have_value("alice")
    expect(page.get_by_label("Owner").locator("option")).to_have_text(["alice", "acme"])
    page.get_by_label("Private").check()
    page.get_by_label("Repository name").fill("not a name!")
    screenshot(page, "publish-new-repo")
    page.get_by_role("button", name="Create repository").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid repo name")
    expect(page.get_by_label("Repository name")).to_have_value("not a name!")
    expect(page.get_by_label("Private")).to_be_checked()

    page.get_by_label("Dataset", exact=True).check()
    page.get_by_label("Owner").select_option("acme")
    page.get_by_label("Repository name").fill("browser-data")
    page.get_by_role("button", name="Create repository").click()
    expect(page).to_have_url(f"{api.endpoint}/datasets/acme/browser-data")
    assert api.dataset_info("acme/browser-data").private is True

    page.goto("/new?type=dataset")
    page.get_by_label("Owner").select_option("acme")
    page.get_by_label("Repository name").fill("browser-data")
    page.get_by_role("button", name="Create repository").click()
    expect(page.get_by_role("alert")).to_contain_text("already created")
    expect(page.get_by_label("Dataset", exact=True)).to_be_checked()


def test_alice_publishes_a_private_model_from_the_browser(page: Page, api: HfApi):
    log_in(page, "alice")
    page.goto("/new")
    page.get_by_label("Repository name").fill("dropped")
    page.get_by_label("Private").check()
    page.get_by_role("button", name="Create repository").click()
    expect(page).to_have_url(f"{api.endpoint}/alice/dropped")
    repo = "alice/dropped"

    # Upload: two files dropped (a real drop event), one chosen with the file input.
    page.goto("/alice/dropped/tree/main")
    page.get_by_role("link", name="Add files").click()
    expect(page).to_have_url(f"{api.endpoint}/alice/dropped/upload/main")
    dragged = page.evaluate_handle(DRAGGED, [NOTES, BIG])
    page.locator("[data-dropzone]").dispatch_event("drop", {"dataTransfer": dragged})
    page.get_by_label("Files", exact=True).set_input_files(
        [{"name": "config.json", "mimeType": "application/json", "buffer": b'{"hidden_size": 8}\n'}]
    )
    rows = page.get_by_role("table", name="Files to upload").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="weights.bin")).to_contain_text("12.6 MB")
    page.get_by_label("Commit summary").fill("First files, from the browser")

    # Slow the upload down so that it can be seen (and photographed) on its way.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": 6 * 1024 * 1024})
    progress = page.get_by_label("Upload progress")
    page.get_by_role("button", name="Upload and commit").click()
    page.wait_for_function(
        "() => { const p = document.querySelector('progress'); return p.value > 5 && p.value < 90; }"
    )
    expect(page.get_by_role("status")).to_contain_text("MB of 12.6 MB")
    page.evaluate("window.scrollTo(0, 0)")  # The sticky header would cover the page's middle.
    screenshot(page, "publish-upload-in-progress")
    cdp.send("Network.emulateNetworkConditions", {**conditions, "uploadThroughput": -1})
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_role("status")).to_contain_text("100% · committed")
    expect(page.get_by_role("button", name="Upload and commit")).to_be_disabled()
    screenshot(page, "publish-upload-done")
    page.wait_for_url(f"{api.endpoint}/alice/dropped/tree/main")

    assert set(api.list_repo_files(repo)) == {".gitattributes", "notes.txt", "weights.bin", "config.json"}
    infos = {i.path: i for i in api.get_paths_info(repo, ["notes.txt", "weights.bin"])}
    assert infos["notes.txt"].lfs is None
    assert infos["weights.bin"].lfs is not None
    assert infos["weights.bin"].lfs.sha256 == big_file_sha256()
    assert infos["weights.bin"].size == BIG
    assert api.list_repo_commits(repo)[0].title == "First files, from the browser"

    # A folder, without the drop zone: the file input and a target folder.
    page.goto("/alice/dropped/upload/main")
    page.get_by_label("Files", exact=True).set_input_files(
        [{"name": "train.csv", "mimeType": "text/csv", "buffer": b"text,label\nhi,1\n"}]
    )
    page.get_by_label("Into folder (optional)").fill("data/raw")
    page.get_by_role("button", name="Upload and commit").click()
    page.wait_for_url(f"{api.endpoint}/alice/dropped/tree/main")
    assert "data/raw/train.csv" in api.list_repo_files(repo)

    # The card: preview (button and typing), refused YAML, then a commit.
    page.goto("/alice/dropped")
    page.get_by_role("link", name="Edit card").click()
    editor = page.get_by_role("textbox", name="README.md")
    expect(editor).to_have_value(re.compile(r"^---\nlicense: apache-2.0\n"))  # a new card's template
    preview = page.locator("#card-preview")
    editor.fill(CARD)
    page.get_by_role("button", name="Preview", exact=True).click()
    expect(preview.get_by_role("heading", name="Tiny demo")).to_be_visible()
    editor.press("End")
    page.keyboard.type("\n## Usage typed live")
    expect(preview.get_by_role("heading", name="Usage typed live")).to_be_visible()
    screenshot(page, "publish-card-editor")

    editor.fill("---\nlicense: [mit\n---\n# Broken\n")
    page.get_by_role("button", name="Commit changes").click()
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was committed")
    expect(editor).to_have_value("---\nlicense: [mit\n---\n# Broken\n")
    assert "README.md" not in api.list_repo_files(repo)

    editor.fill(CARD)
    page.get_by_label("Commit summary").fill("Write the card")
    page.get_by_role("button", name="Commit changes").click()
    expect(page).to_have_url(f"{api.endpoint}/alice/dropped")
    expect(page.get_by_role("heading", name="Tiny demo")).to_be_visible()
    assert api.model_info(repo).card_data.license == "mit"

    # Someone commits while the editor is open: the editor's commit is refused, the text kept.
    page.goto("/alice/dropped/edit/main/README.md")
    api.upload_file(path_or_fileobj=b"meanwhile\n", path_in_repo="other.txt", repo_id=repo)
    editor.fill(CARD + "\nLate edit.\n")
    page.get_by_role("button", name="Commit changes").click()
    expect(page.get_by_role("alert").first).to_contain_text("Someone else committed")
    expect(editor).to_have_value(CARD + "\nLate edit.\n")

    # Delete a file, after confirming.
    page.goto("/alice/dropped/blob/main/config.json")
    page.get_by_role("link", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Delete config.json?")).to_be_visible()
    page.get_by_role("button", name="Delete config.json").click()
    expect(page).to_have_url(f"{api.endpoint}/alice/dropped/tree/main")
    expect(page.get_by_role("status").first).to_contain_text("Deleted config.json")
    assert "config.json" not in api.list_repo_files(repo)

    # Branches and tags.
    page.goto("/alice/dropped/commits/main")
    page.get_by_role("link", name="Branches and tags").click()
    page.get_by_label("Branch name").fill("bad name")
    page.get_by_role("button", name="Create branch").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid branch or tag name")
    expect(page.get_by_label("Branch name")).to_have_value("bad name")
    page.get_by_label("Branch name").fill("experiment")
    page.get_by_role("button", name="Create branch").click()
    page.get_by_label("Tag name").fill("v1.0")
    page.get_by_label("Message (optional)").fill("First release")
    page.get_by_role("button", name="Create tag").click()
    expect(page.get_by_role("table", name="Tags")).to_contain_text("First release")
    screenshot(page, "publish-branches-and-tags")
    expect(page.get_by_role("button", name="Delete the branch main")).to_have_count(0)
    refs = api.list_repo_refs(repo)
    assert {b.name for b in refs.branches} == {"main", "experiment"}
    assert [t.name for t in refs.tags] == ["v1.0"]
    page.get_by_role("button", name="Delete the branch experiment").click()
    expect(page.get_by_role("table", name="Branches")).not_to_contain_text("experiment")
    assert {b.name for b in api.list_repo_refs(repo).branches} == {"main"}


def test_settings_change_visibility_and_delete_after_typed_confirmation(page: Page, api: HfApi):
    api.create_repo("alice/to-settle")
    log_in(page, "alice")
    page.goto("/alice/to-settle")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Public")).to_be_checked()
    screenshot(page, "publish-settings")
    page.get_by_label("Private").check()
    page.get_by_role("button", name="Save visibility").click()
    expect(page.get_by_role("status").first).to_contain_text("alice/to-settle is now private")
    assert api.model_info("alice/to-settle").private is True

    page.get_by_label("Type alice/to-settle to confirm").fill("alice/to-set")
    page.get_by_role("button", name="Delete alice/to-settle").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was deleted")
    assert api.repo_exists("alice/to-settle")
    page.get_by_label("Type alice/to-settle to confirm").fill("alice/to-settle")
    page.get_by_role("button", name="Delete alice/to-settle").click()
    expect(page).to_have_url(f"{api.endpoint}/alice")
    assert not api.repo_exists("alice/to-settle")


def test_bob_cannot_publish_to_alices_repos(page: Page, api: HfApi):
    api.create_repo("alice/bob-reads", exist_ok=True)
    api.create_repo("alice/bob-never-sees", private=True, exist_ok=True)
    log_in(page, "bob")
    assert page.goto("/alice/bob-never-sees/upload/main").status == 404
    response = page.goto("/alice/bob-reads/upload/main")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert page.goto("/alice/bob-reads/settings").status == 403
    assert page.goto("/alice/bob-reads/edit/main/README.md").status == 403
    posted = page.request.post(
        "/alice/bob-reads/upload/main",
        multipart={"files": {"name": "x.txt", "mimeType": "text/plain", "buffer": b"x"}},
        headers=csrf_headers(page),
    )
    assert posted.status == 403
    assert "x.txt" not in api.list_repo_files("alice/bob-reads")
    page.context.clear_cookies()  # Anonymous visitors are sent to log in first.
    page.goto("/alice/bob-reads/upload/main")
    expect(page).to_have_url(f"{api.endpoint}/login?next=%2Falice%2Fbob-reads%2Fupload%2Fmain")


def test_forms_without_csrf_token_and_bad_uploads_are_refused(page: Page, api: HfApi):
    api.create_repo("alice/guarded", exist_ok=True)
    log_in(page, "alice")
    page.goto("/new")
    forged = page.request.post("/new", form={"type": "model", "owner": "alice", "name": "forged"})
    assert forged.status == 403
    assert not api.repo_exists("alice/forged")
    forged_delete = page.request.post("/alice/guarded/settings/delete", form={"confirm": "alice/guarded"})
    assert forged_delete.status == 403
    assert api.repo_exists("alice/guarded")

    upload = "/alice/guarded/upload/main"
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    huge = io.BytesIO(bytes(MAX_FILE_SIZE + 1))
    too_big = httpx.post(
        api.endpoint + upload,
        files={"files": ("huge.bin", huge, "application/octet-stream")},
        headers=csrf_headers(page),
        cookies=cookies,
        timeout=60,
    )
    assert too_big.status_code == 413
    assert "huge.bin is larger than the limit" in too_big.json()["error"]
    outside = page.request.post(
        upload,
        multipart={"folder": "../up", "files": {"name": "a.txt", "mimeType": "text/plain", "buffer": b"a"}},
        headers=csrf_headers(page),
    )
    assert outside.status == 400
    assert "Invalid path" in outside.json()["error"]
    assert page.request.post(upload, multipart={"title": "nothing"}, headers=csrf_headers(page)).status == 400
    assert api.list_repo_files("alice/guarded") == [".gitattributes"]
    api.create_tag("alice/guarded", tag="v0")
    assert page.goto("/alice/guarded/upload/v0").status == 400
    expect(page.get_by_text("'v0' is not a branch")).to_be_visible()


def test_upload_works_without_javascript(browser: Browser, plaza: PlazaServer, api: HfApi):
    api.create_repo("alice/no-script", exist_ok=True)
    context = browser.new_context(base_url=plaza.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "alice")
        page.goto("/alice/no-script/upload/main")
        page.get_by_label("Files", exact=True).set_input_files(
            [{"name": "plain.txt", "mimeType": "text/plain", "buffer": b"no script needed\n"}]
        )
        page.get_by_role("button", name="Upload and commit").click()
        expect(page).to_have_url(f"{plaza.url}/alice/no-script/tree/main")
        expect(page.get_by_role("status").first).to_contain_text("Committed 1 file")
    finally:
        context.close()
    assert "plain.txt" in api.list_repo_files("alice/no-script")
