"""The pages under their Content-Security-Policy, in a real browser: each main page is sent
with the policy, and nothing on it (htmx, the charts, the upload script, Swagger UI) trips it
while a person uses the page."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from huggingface_hub import HfApi
from playwright.sync_api import Page, expect

from modelplaza.jobs.client import JobsClient
from tests.plaza_server import PlazaServer
from tests.ui.conftest import log_in

MODEL = "alice/policy-model"
DATASET = "alice/policy-rows"
# Every violation of the policy, as the browser reports it to the page.
WATCH = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture(scope="module")
def repos(plaza: PlazaServer) -> int:
    """The pages' repos, and a job (its number) whose page draws its empty charts."""
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    api.create_repo(MODEL, exist_ok=True)
    api.upload_file(
        path_or_fileobj=b"---\nlicense: mit\n---\n# Policy\n", path_in_repo="README.md", repo_id=MODEL
    )
    api.create_repo(DATASET, repo_type="dataset", exist_ok=True)
    rows = "x,label\n" + "".join(f"{i},{'ab'[i % 3 == 0]}\n" for i in range(30))
    api.upload_file(
        path_or_fileobj=rows.encode(), path_in_repo="data/train.csv", repo_id=DATASET, repo_type="dataset"
    )
    recipe = {
        "data": {
            "dataset": DATASET,
            "label": "label",
            "inputs": ["x"],
            "splits": {"validation": None, "test": None},
        },
        "model": {"type": "mlp"},
        "optimizer": {"name": "adam", "lr": 0.01},
        "loss": "cross_entropy",
        "training": {"epochs": 1},
        "output": {"repo": "alice/policy-trained"},
    }
    with JobsClient(plaza.url, plaza.tokens["alice"]) as jobs:
        job = jobs.submit(json.dumps(recipe))["id"]
        jobs.cancel(job)
    return job


def use_list(page: Page) -> None:
    page.get_by_role("searchbox", name="Search models and their cards").fill("policy")
    page.get_by_role("searchbox", name="Search models and their cards").press("Enter")
    expect(page.get_by_text("1 model", exact=True)).to_be_visible()  # swapped in by htmx


def use_like(page: Page) -> None:
    page.get_by_role("button", name="Like; 0 likes").click()
    expect(page.get_by_role("button", name="Unlike; 1 likes")).to_be_visible()


def use_menus(page: Page) -> None:
    page.get_by_text("Use this model").click()
    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("link", name="Access tokens")).to_be_visible()


def use_editor(page: Page) -> None:
    text = page.get_by_role("textbox", name="README.md")
    text.fill("---\nlicense: [mit\n---\n# Policy\n")
    text.press("End")  # the preview follows the keys
    expect(page.get_by_role("alert")).to_contain_text("line 2")  # the htmx preview


def use_docs(page: Page) -> None:
    whoami = page.locator(".opblock", has_text="/api/whoami-v2")
    expect(whoami).to_be_visible()  # Swagger UI started, from its static script
    whoami.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(whoami.locator(".live-responses-table")).to_be_visible()


def nothing(page: Page) -> None:
    pass


PAGES: list[tuple[str, Callable[[Page], None]]] = [
    ("/", nothing),
    ("/models", use_list),
    (f"/{MODEL}", use_menus),
    (f"/{MODEL}", use_like),
    (f"/{MODEL}/tree/main", nothing),
    (f"/{MODEL}/edit/main/README.md", use_editor),
    (f"/{MODEL}/upload/main", nothing),
    (f"/datasets/{DATASET}/viewer/main", nothing),
    ("/search?search=policy", nothing),
    ("/jobs", nothing),
    ("/jobs/{job}", nothing),
    ("/settings/tokens", nothing),
    ("/api/docs", use_docs),
]


@pytest.mark.parametrize(("path", "use"), PAGES, ids=[f"{p} {u.__name__}" for p, u in PAGES])
def test_nothing_on_the_page_trips_its_policy(page: Page, repos: int, path: str, use):
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, "alice")
    page.add_init_script(WATCH)
    response = page.goto(path.format(job=repos))
    assert response is not None and response.ok
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    use(page)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.violations") == []
    # The docs' own "Try it out" is refused for want of a token (401): not the policy's doing.
    assert [e for e in errors if "Content Security Policy" in e or "Refused to" in e or "Error" in e] == []
