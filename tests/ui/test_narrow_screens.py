"""The pages on a phone, 400 px wide: nothing is wider than the screen (a wide table or a long
line of code scrolls in its own box), and the navigation folds into a menu that opens without
any inline script."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi
from playwright.sync_api import Page, expect

from modelplaza.jobs.client import JobsClient
from tests.plaza_server import PlazaServer
from tests.ui.conftest import log_in, screenshot

NARROW = {"width": 400, "height": 860}
MODEL = "alice/narrow-model"
DATASET = "alice/narrow-rows"
WIDE_CARD = """---
license: mit
pipeline_tag: text-classification
tags: [tiny, a-tag-long-enough-to-need-wrapping-on-a-small-phone-screen]
---
# A card wider than a phone

| one | two | three | four | five | six | seven | eight | nine | ten |
|---|---|---|---|---|---|---|---|---|---|
| 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 |

```python
model = AutoModelForSequenceClassification.from_pretrained("alice/narrow-model", num_labels=2, revision="main")
```
"""
RECIPE = f"""
data:
  dataset: {DATASET}
  label: kind
  inputs: [length, width, height, depth]
  splits: {{validation: null, test: null}}
model: {{type: mlp}}
optimizer: {{name: adam, lr: 0.01}}
loss: cross_entropy
training: {{epochs: 1}}
output: {{repo: alice/narrow-trained}}
"""


@pytest.fixture(scope="module")
def content(plaza: PlazaServer) -> dict[str, str]:
    """A model with a wide card, a dataset with wide rows, and a job: the pages to look at."""
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    api.create_repo(MODEL, exist_ok=True)
    api.upload_file(path_or_fileobj=WIDE_CARD.encode(), path_in_repo="README.md", repo_id=MODEL)
    api.create_repo(DATASET, repo_type="dataset", exist_ok=True)
    rows = ["length,width,height,depth,kind,a_rather_long_column_name_for_notes"]
    rows += [
        f"{i},{i % 7},{i % 5},{i % 3},{'ab'[i % 2]},note number {i} about this row of the data"
        for i in range(40)
    ]
    api.upload_file(
        path_or_fileobj="\n".join(rows).encode(),
        path_in_repo="data/train.csv",
        repo_id=DATASET,
        repo_type="dataset",
    )
    with JobsClient(plaza.url, plaza.tokens["alice"]) as jobs:
        job = jobs.submit(RECIPE)["id"]
        jobs.cancel(job)  # the page is the same, whether it runs or not
    return {
        "home": "/",
        "model page": f"/{MODEL}",
        "dataset page": f"/datasets/{DATASET}",
        "dataset viewer": f"/datasets/{DATASET}/viewer/main",
        "jobs": "/jobs",
        "job": f"/jobs/{job}",
        "models": "/models",
        "search": "/search?search=narrow",
        "files": f"/{MODEL}/tree/main",
        "tokens": "/settings/tokens",
    }


def narrow_page(page: Page) -> Page:
    log_in(page, "alice")
    page.set_viewport_size(NARROW)
    return page


@pytest.mark.parametrize(
    "name",
    [
        "home",
        "model page",
        "dataset page",
        "dataset viewer",
        "jobs",
        "job",
        "models",
        "search",
        "files",
        "tokens",
    ],
)
def test_pages_fit_a_phone(page: Page, content: dict[str, str], name: str):
    narrow_page(page).goto(content[name])
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    screenshot(page, f"narrow {name}")
    assert width <= NARROW["width"], f"{name} is {width} px wide"


def test_the_viewer_table_scrolls_in_its_own_box(page: Page, content: dict[str, str]):
    narrow_page(page).goto(content["dataset viewer"])
    box = page.get_by_role("region", name="Rows")
    expect(box).to_be_visible()
    inner, outer = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert inner > outer  # wider than the screen, inside its box
    assert outer <= NARROW["width"]


def test_the_navigation_folds_into_a_menu(page: Page, plaza: PlazaServer, content: dict[str, str]):
    narrow_page(page).goto(content["model page"])
    datasets = page.get_by_role("link", name="Datasets", exact=True)
    expect(datasets).to_be_hidden()
    menu = page.get_by_role("button", name="Menu", exact=True)
    menu.click()
    expect(datasets).to_be_visible()
    expect(page.get_by_role("link", name="Access tokens")).to_be_visible()
    screenshot(page, "narrow menu open")
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    datasets.click()
    expect(page).to_have_url(f"{plaza.url}/datasets")
    # On a wide screen the links are in a row and the menu button is gone.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("link", name="Datasets", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Menu", exact=True)).to_be_hidden()
