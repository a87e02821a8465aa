"""Training from the browser: alice opens her iris dataset, presses Train, gets a recipe made for
it, is told precisely what is wrong with a bad edit, submits a good one and watches its curves
and log grow live until the model lands in the hub; she cancels a long job; bob sees none of it.

The tests run in order and share alice's jobs (``JOBS``): the list test shows what the others
left behind."""

from __future__ import annotations

import re

import pytest
import yaml
from datasets import Dataset, DatasetDict
from playwright.sync_api import Page, expect
from sklearn.datasets import load_iris

from modelplaza.jobs.client import JobsClient
from tests.plaza_server import PlazaServer
from tests.ui.conftest import log_in, screenshot

IRIS = "alice/iris-train"
# A job's whole run, from the queue through a fresh process importing torch to the commit.
JOB_SECONDS = 120
JOBS: dict[str, int] = {}  # what each test left behind: "succeeded" / "cancelled" -> job id
# Marks the page shown: a reload (which the job page does once its job ends) forgets the mark.
MARK = "() => { window.sameDocument = true; }"
# Whether the chart plots more than n points in the marked page: it grew from the event stream.
GREW = "([chart, n]) => window.sameDocument && Number(document.getElementById(chart).dataset.points) > n"


@pytest.fixture(scope="module")
def iris(plaza: PlazaServer) -> str:
    """Iris as Parquet with train / validation / test splits (100 / 25 / 25 rows)."""
    table = load_iris(as_frame=True).frame.sample(frac=1.0, random_state=0)
    table.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "label"]
    rows = Dataset.from_pandas(table, preserve_index=False)
    first = rows.train_test_split(test_size=50, seed=0)
    rest = first["test"].train_test_split(test_size=25, seed=0)
    splits = DatasetDict(train=first["train"], validation=rest["train"], test=rest["test"])
    splits.push_to_hub(IRIS, token=plaza.tokens["alice"])
    return IRIS


def recipe_box(page: Page):
    return page.get_by_label("Recipe (YAML or JSON)")


def open_recipe_form(page: Page, dataset: str) -> None:
    log_in(page, "alice")
    page.goto(f"/datasets/{dataset}")
    page.get_by_role("link", name="Train", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs/new\?dataset=alice/iris-train&revision=main$"))


def edited(draft: str, **changes: dict) -> str:
    """The draft with some of its sections' settings changed (None removes one)."""
    recipe = yaml.safe_load(draft)
    for section, values in changes.items():
        for key, value in values.items():
            if value is None:
                del recipe[section][key]
            else:
                recipe[section][key] = value
    return yaml.safe_dump(recipe, sort_keys=False)


def submit(page: Page, text: str) -> int:
    recipe_box(page).fill(text)
    page.get_by_role("button", name="Start training").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_jobs_need_a_login(page: Page):
    page.goto("/jobs")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fjobs$"))
    page.goto("/jobs/new?dataset=alice/iris-train")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fjobs%2Fnew%3Fdataset%3Dalice%2Firis-train$"))
    page.goto(f"/datasets/{IRIS}")
    expect(page.get_by_role("link", name="Train", exact=True)).to_have_count(0)


def test_train_opens_a_recipe_made_for_the_dataset_and_names_each_mistake(page: Page, iris: str):
    open_recipe_form(page, iris)
    draft = recipe_box(page).input_value()
    for line in (
        f"dataset: {iris}",
        "inputs: [sepal_length, sepal_width, petal_length, petal_width]",
        "label: label",
        "type: mlp",
        "name: cross_entropy",
        "repo: alice/iris-train-mlp",
    ):
        assert line in draft
    expect(page.get_by_role("heading", name="Field guide")).to_be_visible()
    screenshot(page, "jobs-recipe-form")

    # Mistakes in the recipe itself: every one is named, and the text stays as it was typed.
    bad = draft.replace("lr: 0.001", "lr: -0.1").replace("type: mlp", "type: mlpx")
    recipe_box(page).fill(bad)
    page.get_by_role("button", name="Start training").click()
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("optimizer.lr: must be greater than 0, got -0.1")
    expect(problems).to_contain_text("model.type: unknown architecture 'mlpx'")
    expect(recipe_box(page)).to_have_value(bad)
    expect(recipe_box(page)).to_have_attribute("aria-invalid", "true")
    screenshot(page, "jobs-recipe-form-errors")

    # A mistake only the dataset reveals.
    recipe_box(page).fill(draft.replace("label: label", "label: species"))
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("alert")).to_contain_text("data.label: no column 'species' in the dataset")

    # Not YAML at all; and an output repo in someone else's namespace.
    recipe_box(page).fill("data: [unclosed")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("alert")).to_contain_text("recipe: not valid YAML or JSON at line")
    recipe_box(page).fill(draft.replace("repo: alice/", "repo: bob/"))
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("alert")).to_contain_text("output.repo: you may not create repos in 'bob'")
    expect(page.get_by_role("link", name="Jobs", exact=True)).to_be_visible()


def test_a_job_shows_its_curves_and_log_and_links_the_model_it_made(page: Page, iris: str):
    open_recipe_form(page, iris)
    job_id = submit(page, edited(recipe_box(page).input_value(), training={"epochs": 5, "batch_size": 4}))
    JOBS["succeeded"] = job_id
    expect(page.get_by_role("status").first).to_contain_text(f"Job {job_id} submitted")
    steps = page.get_by_role("img", name="Training loss per step")
    epochs = page.get_by_role("img", name=re.compile("^Train and validation loss"))
    expect(steps.locator("canvas")).to_be_visible()  # uPlot is drawing, even before any point
    expect(page.get_by_role("button", name="Cancel job")).to_be_visible()

    # The page follows the job's stream and reloads itself once the job has ended.
    expect(page.locator("#job-state")).to_have_text("succeeded", timeout=JOB_SECONDS * 1000)
    expect(steps).to_have_attribute("data-points", re.compile(r"^[1-9]\d*$"))
    expect(epochs).to_have_attribute("data-points", "5")
    expect(page.locator("#job-progress")).to_contain_text(re.compile(r"^Epoch 5 / 5 · loss \d"))
    log = page.get_by_role("region", name="Log").locator("pre")
    expect(log).to_contain_text("[running] on worker")
    expect(log).to_contain_text(f"Dataset {iris} at commit")
    expect(log).to_contain_text("Committed ")
    tests = page.get_by_role("complementary").get_by_role("region", name="Test metrics")
    expect(tests).to_contain_text("accuracy")
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)
    expect(page.get_by_role("heading", name="Recipe")).to_be_visible()
    expect(page.locator(".code-block code")).to_contain_text("epochs: 5")
    screenshot(page, "jobs-job-page")

    model = page.get_by_role("link", name=re.compile(r"^alice\/iris-train-mlp @ [0-9a-f]{10}$"))
    model.click()
    expect(page).to_have_url(re.compile(r"/alice/iris-train-mlp/card/[0-9a-f]{40}$"))
    expect(page.get_by_role("heading", name=re.compile(r"alice \/ iris-train-mlp"))).to_be_visible()
    expect(page.get_by_role("article")).to_contain_text(iris)


def test_a_long_job_grows_live_and_is_cancelled_with_the_reason(page: Page, iris: str):
    open_recipe_form(page, iris)
    long_run = {"epochs": 2000, "batch_size": 1, "early_stopping": None}
    job_id = submit(page, edited(recipe_box(page).input_value(), training=long_run))
    JOBS["cancelled"] = job_id
    page.evaluate(MARK)
    page.wait_for_function(GREW, arg=["chart-steps", 0], timeout=JOB_SECONDS * 1000)
    seen = int(page.get_by_role("img", name="Training loss per step").get_attribute("data-points"))
    page.wait_for_function(GREW, arg=["chart-steps", seen])
    page.wait_for_function(GREW, arg=["chart-epochs", 1])
    expect(page.locator("#job-state")).to_have_text("running")
    expect(page.locator("#job-progress")).to_contain_text(re.compile(r"^Epoch \d+ / 2000 · loss \d"))
    log = page.get_by_role("region", name="Log").locator("pre")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).to_contain_text("Training a mlp model on 100 examples")
    assert page.evaluate("() => window.sameDocument")  # all of it without a reload
    screenshot(page, "jobs-job-page-live")

    page.get_by_role("button", name="Cancel job").click()
    expect(page.get_by_role("status").first).to_contain_text("Cancellation requested")
    expect(page.locator("#job-state")).to_have_text("cancelled", timeout=60_000)
    expect(page.get_by_role("status").filter(has_text="Why it was cancelled:")).to_contain_text(
        "Cancelled by alice"
    )
    expect(page.get_by_role("button", name="Cancel job")).to_have_count(0)


def test_a_queued_job_is_cancelled_at_once(page: Page, iris: str, plaza: PlazaServer):
    open_recipe_form(page, iris)
    recipe = edited(
        recipe_box(page).input_value(), training={"epochs": 2000, "batch_size": 1, "early_stopping": None}
    )
    with JobsClient(plaza.url, plaza.tokens["alice"]) as client:
        blocker = client.submit(recipe)["id"]  # keeps the only worker slot busy
        job_id = submit(page, recipe)
        expect(page.locator("#job-state")).to_have_text("queued")
        page.get_by_role("button", name="Cancel job").click()
        expect(page.get_by_role("status").first).to_contain_text("Job cancelled before it started.")
        expect(page.locator("#job-state")).to_have_text("cancelled")
        expect(page.get_by_text("Why it was cancelled:")).to_be_visible()
        expect(page.locator("#job-message")).to_contain_text("Cancelled by alice before it started")
        assert client.get(job_id)["state"] == "cancelled"
        client.cancel(blocker)


def test_the_recipe_form_without_a_dataset_and_with_bad_ones(page: Page, iris: str):
    log_in(page, "bob")
    page.goto("/jobs/new")
    draft = recipe_box(page).input_value()
    assert "dataset: bob/my-dataset" in draft and "repo: bob/my-dataset-mlp" in draft
    assert page.goto("/jobs/new?dataset=alice/no-such-data").status == 404
    assert page.goto("/jobs/new?dataset=not-a-repo-id").status == 400
    expect(page.get_by_text("Invalid repo id 'not-a-repo-id'")).to_be_visible()
    assert page.goto(f"/jobs/new?dataset={iris}&revision=no-such-branch").status == 404


def test_others_cannot_see_a_job(page: Page):
    job_id = JOBS["succeeded"]
    log_in(page, "bob")
    response = page.goto(f"/jobs/{job_id}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_text(f"Job {job_id} not found")).to_be_visible()
    page.goto("/jobs")
    expect(page.get_by_text("No jobs yet.")).to_be_visible()
    assert page.goto("/jobs/not-a-number").status == 404
    assert page.request.get(f"/api/jobs/{job_id}/stream").status == 404  # nor its stream


def test_the_list_shows_each_job_with_its_state_and_filters_by_state(page: Page):
    log_in(page, "alice")
    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    for state, job_id in JOBS.items():
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=re.compile(rf"^#{job_id} ")))
        expect(row).to_contain_text(state)
        expect(row.get_by_role("link")).to_have_attribute("href", f"/jobs/{job_id}")
    succeeded = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=re.compile(rf"^#{JOBS['succeeded']} "))
    )
    expect(succeeded).to_contain_text("Epoch 5 / 5")
    screenshot(page, "jobs-list")

    page.get_by_role("navigation", name="Filter by state").get_by_role("link", name="succeeded").click()
    expect(page).to_have_url(re.compile(r"/jobs\?state=succeeded$"))
    expect(page.get_by_role("row")).to_have_count(2)  # the header and the one job
    page.goto("/jobs?state=failed")
    expect(page.get_by_text("No failed jobs.")).to_be_visible()
    assert page.goto("/jobs?state=sleeping").status == 400
    expect(page.get_by_text("Unknown job state 'sleeping'")).to_be_visible()
    assert page.goto("/jobs?p=0").status == 400


def test_an_administrator_sees_everyones_jobs_with_their_owners(page: Page, plaza: PlazaServer):
    plaza.cli("admin", "create-user", "olga", "--password", "olga-password", "--admin")
    log_in(page, "olga", "olga-password")
    page.goto("/jobs")
    expect(page.get_by_role("columnheader", name="Owner")).to_be_visible()
    row = page.get_by_role("row").filter(
        has=page.get_by_role("link", name=re.compile(rf"^#{JOBS['succeeded']} "))
    )
    expect(row.get_by_role("link", name="alice", exact=True)).to_have_attribute("href", "/alice")
    assert page.goto(f"/jobs/{JOBS['succeeded']}").status == 200
