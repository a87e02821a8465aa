"""Every recipe shipped in examples/recipes is one the plaza accepts as it is: checked, exactly as
a submission is, against the datasets ``plaza demo`` seeds, as the demo user."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelplaza import demo
from modelplaza.auth import accounts
from modelplaza.config import Settings
from modelplaza.jobs import kinds
from modelplaza.plaza import Plaza
from modelplaza.train.recipe import load_recipe

RECIPES = sorted((Path(__file__).parents[2] / "examples" / "recipes").glob("*.yaml"))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Plaza:
    """The demo's plaza, without its embedding model: no shipped recipe uses it."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo, "_model_folder", lambda: None)
        demo.seed(settings)
    plaza = Plaza.existing(settings)
    yield plaza
    plaza.close()


def test_the_examples_are_there():
    assert {path.name for path in RECIPES} >= {"digits-cnn.yaml", "digits-mlp.yaml", "iris-mlp.yaml"}


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.name)
def test_each_shipped_recipe_passes_the_submission_checks_on_the_demo(seeded, path):
    text = path.read_text()
    with seeded.db.read() as session:
        user = accounts.get_user(session, demo.DEMO_USER)
        principal = accounts.principal_for(session, user, write=True)
        submission = kinds.get("train").check(session, seeded.contents, principal, text)
    recipe = load_recipe(text)
    assert submission.spec_text == text
    assert submission.title == f"train {recipe.model.type} on {recipe.data.dataset}"
    assert recipe.data.dataset.startswith("demo/") and recipe.output.repo == f"demo/{path.stem}"
