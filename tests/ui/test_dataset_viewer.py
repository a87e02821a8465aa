"""The dataset viewer as people use it: a dataset pushed with ``datasets`` (train and test
splits, a column of pictures) and one uploaded as CSV files, browsed split by split and page
by page, with their schema and column statistics."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest
from datasets import Dataset, DatasetDict, Image
from huggingface_hub import CommitOperationAdd, HfApi
from playwright.sync_api import Page, expect

from modelplaza.data.stats import number
from tests.images import png
from tests.plaza_server import PlazaServer
from tests.ui.conftest import log_in, screenshot

SPECIES = {
    "setosa": (5.0, (220, 60, 60)),
    "versicolor": (5.9, (60, 160, 60)),
    "virginica": (6.6, (60, 60, 220)),
}
IRIS = "alice/iris-viewer"
CITIES = "alice/cities-csv"
SECRET = "alice/secret-rows"


def iris(rows: int, seed: int) -> dict[str, list]:
    """Iris-like rows: a measurement per species, its name and a small picture of its colour."""
    rng = random.Random(seed)
    names = [rng.choice(list(SPECIES)) for _ in range(rows)]
    return {
        "sepal_length": [round(rng.gauss(SPECIES[n][0], 0.35), 1) for n in names],
        "species": names,
        "image": [{"bytes": png(6, 6, SPECIES[n][1]), "path": f"{n}-{i}.png"} for i, n in enumerate(names)],
    }


TRAIN, TEST = iris(120, seed=1), iris(30, seed=2)
CITY_ROWS = [(f"city-{i}", ["north", "south", "east"][i % 3], 1000 + 37 * i) for i in range(45)]


@pytest.fixture(scope="module")
def api(plaza: PlazaServer) -> HfApi:
    return HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])


@pytest.fixture(scope="module")
def datasets_pushed(plaza: PlazaServer, api: HfApi) -> None:
    splits = DatasetDict(
        {
            name: Dataset.from_dict(rows).cast_column("image", Image())
            for name, rows in (("train", TRAIN), ("test", TEST))
        }
    )
    splits.push_to_hub(IRIS, token=plaza.tokens["alice"])

    csv = "city,region,population\n" + "".join(f"{c},{r},{p}\n" for c, r, p in CITY_ROWS)
    api.create_repo(CITIES, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=csv.encode(), path_in_repo="train.csv", repo_id=CITIES, repo_type="dataset"
    )

    api.create_repo(SECRET, repo_type="dataset", private=True)
    api.upload_file(
        path_or_fileobj=b"a,b\n1,2\n", path_in_repo="data.csv", repo_id=SECRET, repo_type="dataset"
    )


def split_tab(page: Page, name: str):
    return page.get_by_role("navigation", name="Splits").get_by_role("link", name=re.compile(rf"^{name}\b"))


def test_viewer_shows_splits_schema_pictures_and_statistics(page: Page, datasets_pushed):
    page.goto(f"/datasets/{IRIS}")
    page.get_by_role("link", name="Viewer", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/datasets/{IRIS}/viewer/main$"))
    expect(page.get_by_role("link", name="Viewer", exact=True)).to_have_attribute("aria-current", "page")

    expect(split_tab(page, "train")).to_have_attribute("aria-current", "page")
    expect(split_tab(page, "train")).to_contain_text("120 rows")
    expect(split_tab(page, "test")).to_contain_text("30 rows")

    schema = page.locator(".schema-table")
    expect(schema.get_by_role("row", name=re.compile(r"sepal_length double"))).to_be_visible()
    expect(
        schema.get_by_role("row", name=re.compile(r"image struct<bytes: binary, path: string>"))
    ).to_be_visible()

    rows = page.get_by_role("region", name="Rows").get_by_role("table")
    expect(rows.get_by_role("row")).to_have_count(21)  # the header and 20 rows
    first = rows.get_by_role("row").nth(1)
    expect(first.get_by_role("cell").nth(1)).to_have_text(TRAIN["species"][0])
    picture = first.get_by_role("img")
    expect(picture).to_have_attribute("alt", f"{TRAIN['species'][0]}-0.png (image, row 0)")
    assert picture.get_attribute("src").startswith("data:image/png;base64,")
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 6  # a real, decoded picture

    lengths = TRAIN["sepal_length"]
    card = page.get_by_role("article").filter(
        has=page.get_by_role("heading", name=re.compile("^sepal_length"))
    )
    expect(card.locator("dd").first).to_have_text(number(min(lengths)))
    histogram = card.get_by_role("img", name=re.compile("^Histogram of sepal_length"))
    counts = [int(n) for n in re.findall(r": (\d+)(?:;|$)", histogram.get_attribute("aria-label"))]
    assert len(counts) == 10 and sum(counts) == 120
    expect(histogram.locator("rect")).to_have_count(10)

    species = page.get_by_role("article").filter(has=page.get_by_role("heading", name=re.compile("^species")))
    top = species.get_by_role("table", name="Most frequent values")
    name, count = Counter(TRAIN["species"]).most_common(1)[0]
    expect(top.get_by_role("row").nth(1)).to_contain_text(f"{name} {count}")
    expect(species.locator("dd").nth(0)).to_have_text("3")  # distinct
    expect(page.get_by_text("No statistics for image")).to_be_visible()
    screenshot(page, "dataset-viewer")


def test_rows_page_by_page_and_split_by_split(page: Page, datasets_pushed):
    page.goto(f"/datasets/{IRIS}/viewer/main")
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"\?split=train&page=2$"))
    expect(page.get_by_text("Rows 21–40 of 120 rows")).to_be_visible()
    table = page.get_by_role("region", name="Rows").get_by_role("table")
    expect(table.get_by_role("row").nth(1).get_by_role("rowheader")).to_have_text("20")
    expect(table.get_by_role("row").nth(1).get_by_role("cell").nth(1)).to_have_text(TRAIN["species"][20])

    split_tab(page, "test").click()
    expect(split_tab(page, "test")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Rows 21–30 of 30 rows")).to_be_visible()
    expect(page.get_by_role("link", name="Next →")).to_have_count(0)
    expect(page.get_by_role("link", name="← Previous")).to_be_visible()


def test_csv_dataset_rows_and_top_values(page: Page, datasets_pushed):
    page.goto(f"/datasets/{CITIES}/viewer/main")
    expect(split_tab(page, "train")).to_contain_text("45 rows")
    expect(page.get_by_role("link", name="train.csv")).to_be_visible()
    page.goto(f"/datasets/{CITIES}/viewer/main?split=train&page=3")
    table = page.get_by_role("region", name="Rows").get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(6)
    expect(table.get_by_role("row").nth(5)).to_contain_text("city-44")

    region = page.get_by_role("article").filter(has=page.get_by_role("heading", name=re.compile("^region")))
    top = region.get_by_role("table", name="Most frequent values")
    for value in ("north", "south", "east"):
        expect(top.get_by_role("row", name=re.compile(rf"^{value} 15 "))).to_be_visible()
    city = page.get_by_role("article").filter(has=page.get_by_role("heading", name=re.compile("^city")))
    expect(city).to_contain_text("Every value differs")
    expect(city.get_by_role("table")).to_have_count(0)
    population = page.get_by_role("img", name=re.compile("^Histogram of population"))
    expect(population).to_be_visible()
    screenshot(page, "dataset-viewer-csv")


def test_a_split_of_several_files_offers_a_choice_of_file(page: Page, api: HfApi):
    repo_id = "alice/sharded-rows"
    api.create_repo(repo_id, repo_type="dataset")
    parts = [CommitOperationAdd(f"train/part-{n}.csv", f"n\n{n}0\n{n}1\n".encode()) for n in (1, 2)]
    api.create_commit(repo_id, parts, commit_message="Two parts", repo_type="dataset")

    page.goto(f"/datasets/{repo_id}/viewer/main")
    expect(split_tab(page, "train")).to_contain_text("4 rows")
    choice = page.get_by_label("File")
    expect(choice).to_have_value("train/part-1.csv")
    choice.select_option("train/part-2.csv")  # the form sends itself
    expect(page).to_have_url(re.compile(r"file=train%2Fpart-2.csv"))
    rows = page.get_by_role("region", name="Rows").get_by_role("table")
    expect(rows.get_by_role("cell")).to_have_text(["20", "21"])


def test_private_dataset_viewer_is_hidden_from_others(page: Page, datasets_pushed):
    response = page.goto(f"/datasets/{SECRET}/viewer/main")
    assert response.status == 404
    log_in(page, "bob")
    assert page.goto(f"/datasets/{SECRET}/viewer/main").status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()


def test_owner_sees_private_dataset_viewer(page: Page, datasets_pushed):
    log_in(page, "alice")
    assert page.goto(f"/datasets/{SECRET}/viewer/main").status == 200
    expect(split_tab(page, "train")).to_contain_text("1 row ")


def test_models_have_no_viewer(page: Page, api: HfApi):
    api.create_repo("alice/no-viewer-model")
    assert page.goto("/alice/no-viewer-model/viewer/main").status == 404
    expect(page.get_by_text("Only datasets have a viewer.")).to_be_visible()


def test_bad_requests_get_clear_pages(page: Page, datasets_pushed):
    response = page.goto(f"/datasets/{CITIES}/viewer/main?page=abc")
    assert response.status == 400
    expect(page.get_by_text("The page number must be a whole number from 1")).to_be_visible()
    assert page.goto(f"/datasets/{CITIES}/viewer/main?split=nope").status == 404
    expect(page.get_by_text("This dataset has no split named 'nope'")).to_be_visible()
    assert page.goto(f"/datasets/{CITIES}/viewer/no-such-branch").status == 404
    assert page.goto(f"/datasets/{CITIES}/viewer/main?page=99").status == 200
    expect(page.get_by_text("No rows on this page.")).to_be_visible()


def test_unreadable_and_missing_data_are_explained(page: Page, api: HfApi):
    repo_id = "alice/broken-rows"
    api.create_repo(repo_id, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=b"not parquet at all",
        path_in_repo="train.parquet",
        repo_id=repo_id,
        repo_type="dataset",
    )
    page.goto(f"/datasets/{repo_id}/viewer/main")
    expect(page.get_by_role("alert")).to_contain_text("train.parquet could not be read as Parquet")
    expect(split_tab(page, "train")).to_contain_text("rows unknown")
    assert "Traceback" not in page.content()

    empty = "alice/only-a-card"
    api.create_repo(empty, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=b"# Notes\n", path_in_repo="README.md", repo_id=empty, repo_type="dataset"
    )
    page.goto(f"/datasets/{empty}/viewer/main")
    expect(page.get_by_text("No data files to show at this revision.")).to_be_visible()
