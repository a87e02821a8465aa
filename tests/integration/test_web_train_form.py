"""The recipe the Train button drafts writes to a new model repo: pressing Train again on the same
dataset, once the first model exists, offers ``-2``, and so on; never the existing model."""

from __future__ import annotations

import re

from huggingface_hub import HfApi

from tests.integration.job_helpers import upload_table
from tests.integration.test_web_accounts import browser, log_in
from tests.unit.train_helpers import iris_table


def drafted_output(client, dataset: str) -> str:
    page = client.get("/jobs/new", params={"dataset": dataset})
    assert page.status_code == 200
    [repo] = re.findall(r"^\s*repo: (\S+)$", page.text, re.MULTILINE)
    return repo


def test_train_again_drafts_a_fresh_output_name_in_the_visitors_namespace(plaza):
    api = HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])
    name = upload_table(api, iris_table(), "flowers.parquet").split("/")[1]
    with browser(plaza) as alice, browser(plaza) as bob:
        assert log_in(alice, "alice").status_code == 303
        assert log_in(bob, "bob").status_code == 303
        assert drafted_output(alice, f"alice/{name}") == f"alice/{name}-mlp"

        api.create_repo(f"alice/{name}-mlp", private=True)  # as the first training's commit would
        assert drafted_output(alice, f"alice/{name}") == f"alice/{name}-mlp-2"
        api.create_repo(f"alice/{name}-mlp-2")
        assert drafted_output(alice, f"alice/{name}") == f"alice/{name}-mlp-3"
        # Bob's namespace has none of these: his draft starts afresh.
        assert drafted_output(bob, f"alice/{name}") == f"bob/{name}-mlp"
