"""A repo's pages as a visitor uses them: the card with its facts and snippets, the files, one
file, the history and one commit, the branch selector and the like button."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pytest
from huggingface_hub import CommitOperationAdd, HfApi, constants
from playwright.sync_api import Page, expect

from tests.ui.conftest import log_in, screenshot

CARD = """---
license: apache-2.0
pipeline_tag: text-classification
datasets:
- acme/reviews
base_model: alice/base-model
---
# Review sentiment

A tiny classifier for **reviews**.
"""
HOSTILE_CARD = """# Hostile

<script>window.__pwned = 1</script>

<img src="x" onerror="window.__pwned = 2">

<a href="javascript:window.__pwned = 3">raw link</a> and [markdown link](javascript:window.__pwned=4)
"""
WEIGHTS = b"\x00" * (11 * 1024 * 1024)  # over 10 MB: an LFS file, too large to show


@dataclass(frozen=True)
class Repos:
    model: str
    hostile: str
    private: str


@pytest.fixture(scope="module")
def repos(plaza) -> Repos:
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    suffix = uuid.uuid4().hex[:6]
    found = Repos(f"alice/sentiment-{suffix}", f"alice/hostile-{suffix}", f"alice/secret-{suffix}")
    api.create_repo(found.model)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the classic LFS upload
        files = {
            "README.md": CARD.encode(),
            "config.json": json.dumps({"hidden_size": 8, "labels": ["negative", "positive"]}).encode(),
            "src/model.py": b"def predict(text):\n    return 'positive'\n",
            "weights.bin": WEIGHTS,
        }
        api.create_commit(
            found.model,
            [CommitOperationAdd(path, data) for path, data in files.items()],
            commit_message="Add the classifier",
        )
    api.create_branch(found.model, branch="dev")
    api.upload_file(
        path_or_fileobj=b"work in progress",
        path_in_repo="dev-only.txt",
        repo_id=found.model,
        revision="dev",
        commit_message="Work on dev",
    )
    api.create_repo(found.hostile)
    api.upload_file(path_or_fileobj=HOSTILE_CARD.encode(), path_in_repo="README.md", repo_id=found.hostile)
    api.create_repo(found.private, private=True)
    return found


def test_card_shows_its_facts_and_snippets_for_this_plaza(page: Page, plaza, repos: Repos):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/{repos.model}")
    expect(page.get_by_role("heading", name="Review sentiment")).to_be_visible()
    about = page.get_by_role("region", name="About")
    expect(about).to_contain_text(re.compile(r"Size\s*11\.5 MB in 5 files"))
    expect(about).to_contain_text(re.compile(r"Downloads\s*0"))
    facts = page.get_by_role("region", name="From the card")
    for value in ("apache-2.0", "text-classification", "acme/reviews"):
        expect(facts.get_by_role("link", name=value)).to_be_visible()
    expect(facts.get_by_role("link", name="alice/base-model")).to_have_attribute("href", "/alice/base-model")
    screenshot(page, "repo-card")

    page.get_by_text("Use this model").click()
    panel = page.get_by_role("region", name=f"Use {repos.model} from this plaza")
    snippets = [code.inner_text() for code in panel.locator("code").all()]
    assert len(snippets) == 3  # huggingface_hub, transformers, curl
    assert all(plaza.url in code for code in snippets)
    assert f'snapshot_download("{repos.model}", endpoint="{plaza.url}")' in snippets[0]
    assert f'os.environ["HF_ENDPOINT"] = "{plaza.url}"' in snippets[1]
    assert 'pipeline("text-classification"' in snippets[1]
    assert f"{plaza.url}/{repos.model}/resolve/main/config.json" in snippets[2]
    panel.get_by_role("button", name="Copy curl snippet").click()
    assert page.evaluate("navigator.clipboard.readText()").strip() == snippets[2].strip()


def test_hostile_card_renders_inert(page: Page, repos: Repos):
    page.goto(f"/{repos.hostile}")
    card = page.get_by_role("article", name="Model card")
    expect(card.get_by_role("heading", name="Hostile")).to_be_visible()
    assert page.evaluate("window.__pwned") is None
    assert card.locator("script").count() == 0
    assert card.locator("img").count() == 1 and page.locator("[onerror]").count() == 0
    raw = card.get_by_text("raw link")
    assert not (raw.get_attribute("href") or "").lower().startswith("javascript")
    assert card.locator("[href^='javascript' i]").count() == 0


def test_file_tree_lists_folders_first_with_sizes_and_lfs(page: Page, repos: Repos):
    page.goto(f"/{repos.model}/tree/main")
    rows = page.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("src")  # after the header row: folders first
    weights = rows.filter(has_text="weights.bin")
    expect(weights).to_contain_text("LFS")
    expect(weights).to_contain_text("11.5 MB")
    expect(rows.filter(has_text="config.json")).to_contain_text(re.compile(r"\d+ B"))
    expect(weights.get_by_role("link", name="Download weights.bin")).to_have_attribute(
        "href", f"/{repos.model}/resolve/main/weights.bin?download=true"
    )
    screenshot(page, "repo-files")

    page.get_by_role("link", name="src", exact=True).click()
    expect(page.get_by_role("navigation", name="Path")).to_contain_text("src")
    page.get_by_role("link", name="model.py", exact=True).click()
    expect(page.locator("pre.numbered .line")).to_have_count(2)


def test_file_view_pretty_prints_json_and_cuts_off_big_files(page: Page, repos: Repos):
    page.goto(f"/{repos.model}/blob/main/config.json")
    code = page.locator(".code-view code")
    expect(code).to_contain_text('  "hidden_size": 8,')
    expect(page.locator("pre.numbered .line")).to_have_count(7)
    screenshot(page, "repo-file-view")

    page.goto(f"/{repos.model}/blob/main/README.md")
    expect(page.get_by_role("heading", name="Review sentiment")).to_be_visible()
    page.get_by_role("link", name="Source").click()
    expect(page.locator(".code-view code")).to_contain_text("license: apache-2.0")

    page.goto(f"/{repos.model}/blob/main/weights.bin")
    expect(page.get_by_text("too large to show here")).to_be_visible()
    expect(page.get_by_role("link", name="Download weights.bin")).to_be_visible()


def test_history_and_the_files_a_commit_changed(page: Page, repos: Repos):
    page.goto(f"/{repos.model}/commits/main")
    items = page.locator(".commit-item")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Add the classifier")
    expect(items.nth(0)).to_contain_text("4 files changed")
    expect(items.nth(1)).to_contain_text("initial commit")
    screenshot(page, "repo-commits")

    page.get_by_role("link", name="Add the classifier").click()
    expect(page.get_by_role("heading", name="4 files changed")).to_be_visible()
    changes = page.get_by_role("table", name="Files changed by this commit")
    for path in ("README.md", "config.json", "src/model.py", "weights.bin"):
        expect(changes.get_by_role("row").filter(has_text=path)).to_contain_text("added")
    screenshot(page, "repo-commit")


def test_branch_selector_keeps_the_tab(page: Page, repos: Repos):
    page.goto(f"/{repos.model}/tree/main")
    expect(page.get_by_role("link", name="dev-only.txt", exact=True)).to_have_count(0)
    page.get_by_label("Branch or tag").select_option("dev")
    expect(page).to_have_url(re.compile(r"/tree/dev$"))
    expect(page.get_by_role("link", name="dev-only.txt", exact=True)).to_be_visible()

    page.get_by_role("link", name="dev-only.txt", exact=True).click()
    page.get_by_label("Branch or tag").select_option("main")  # main has no such file: its root
    expect(page).to_have_url(re.compile(r"/tree/main$"))

    page.get_by_role("link", name="Commits").click()
    page.get_by_label("Branch or tag").select_option("dev")
    expect(page).to_have_url(re.compile(r"/commits/dev$"))
    expect(page.locator(".commit-item").first).to_contain_text("Work on dev")


def test_private_repo_is_not_found_for_others(page: Page, repos: Repos):
    for path in ("", "/tree/main", "/commits/main"):
        response = page.goto(f"/{repos.private}{path}")
        assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    log_in(page, "bob")
    assert page.goto(f"/{repos.private}").status == 404
    assert page.goto(f"/{repos.model}/tree/no-such-branch").status == 404


def test_like_button_toggles_the_count(page: Page, repos: Repos):
    page.goto(f"/{repos.model}")
    page.get_by_role("link", name=re.compile("^Log in to like")).click()
    expect(page).to_have_url(re.compile(r"/login\?next="))
    log_in(page, "alice")
    page.goto(f"/{repos.model}")
    page.get_by_role("button", name="Like; 0 likes").click()
    unlike = page.get_by_role("button", name="Unlike; 1 likes")
    expect(unlike).to_have_attribute("aria-pressed", "true")
    page.reload()
    page.get_by_role("button", name="Unlike; 1 likes").click()
    expect(page.get_by_role("button", name="Like; 0 likes")).to_be_visible()
