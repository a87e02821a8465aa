"""Bad input to the web pages that change things: someone else's job or repo, a missing file or
ref, a path out of the repo, a revision that is not a branch. Each is answered with its exact
status, and the job, repo, refs and files are left as they were."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import HfApi

from modelplaza.jobs.client import JobsClient
from tests.integration.test_web_accounts import browser, csrf, log_in
from tests.plaza_server import PlazaServer, free_port, running_plaza

DATASET = "alice/tiny-rows"
RECIPE = yaml.safe_dump(
    {
        "data": {
            "dataset": DATASET,
            "inputs": "x*",
            "label": "label",
            "splits": {"ratios": {"train": 0.6, "validation": 0.2, "test": 0.2}, "seed": 0},
        },
        "model": {"type": "mlp", "hidden": [4]},
        "optimizer": {"name": "adam"},
        "loss": "cross_entropy",
        "training": {"epochs": 1, "batch_size": 8},
        "output": {"repo": "alice/tiny-model"},
    }
)


@pytest.fixture(scope="module")
def jobs_plaza() -> Iterator[PlazaServer]:
    """A plaza without a worker, so that a submitted job stays queued, with alice's dataset."""
    with running_plaza("web-bad-input-jobs", free_port(), PLAZA_EMBEDDED_WORKER="0") as server:
        for user in ("alice", "bob"):
            server.cli("admin", "create-user", user, "--password", f"{user}-password")
            server.tokens[user] = server.token(user)
        rows = pa.table({"x0": [float(i) for i in range(20)], "x1": [1.0] * 20, "label": [0, 1] * 10})
        buffer = io.BytesIO()
        pq.write_table(rows, buffer)
        api = HfApi(endpoint=server.url, token=server.tokens["alice"])
        api.create_repo(DATASET, repo_type="dataset")
        api.upload_file(
            path_or_fileobj=buffer.getvalue(),
            path_in_repo="rows.parquet",
            repo_id=DATASET,
            repo_type="dataset",
        )
        yield server


@pytest.fixture(scope="module")
def alice(plaza: PlazaServer) -> Iterator[httpx.Client]:
    with browser(plaza) as client:
        assert log_in(client, "alice").status_code == 303
        yield client


@pytest.fixture(scope="module")
def bob(plaza: PlazaServer) -> Iterator[httpx.Client]:
    """bob writes to acme's repos, not to alice's."""
    with browser(plaza) as client:
        assert log_in(client, "bob").status_code == 303
        yield client


@pytest.fixture
def anonymous(plaza: PlazaServer) -> Iterator[httpx.Client]:
    with browser(plaza) as client:
        yield client


def alice_repo(api: HfApi, *, private: bool = False) -> str:
    """A new repo of alice's holding weights.txt on main, with a branch dev and a tag v1."""
    repo_id = f"alice/bad-input-{uuid.uuid4().hex[:10]}"
    api.create_repo(repo_id, private=private)
    api.upload_file(path_or_fileobj=b"weights\n", path_in_repo="weights.txt", repo_id=repo_id)
    api.create_branch(repo_id, branch="dev")
    api.create_tag(repo_id, tag="v1")
    return repo_id


def state(api: HfApi, repo_id: str) -> tuple:
    """What a refused request must leave alone: files, head, branches and tags, visibility."""
    refs = api.list_repo_refs(repo_id)
    branches = {(b.name, b.target_commit) for b in refs.branches}
    tags = {(t.name, t.target_commit) for t in refs.tags}
    info = api.repo_info(repo_id)
    return sorted(api.list_repo_files(repo_id)), info.sha, info.private, branches, tags


def post(client: httpx.Client, url: str, **fields: str) -> httpx.Response:
    return client.post(url, data={**fields, "csrf_token": csrf(client)})


def test_only_the_owner_cancels_a_job_from_the_web(jobs_plaza):
    with JobsClient(jobs_plaza.url, jobs_plaza.tokens["alice"]) as jobs:
        job = jobs.submit(RECIPE)
        assert job["state"] == "queued"
        url = f"/jobs/{job['id']}/cancel"
        with browser(jobs_plaza) as bob:
            assert log_in(bob, "bob").status_code == 303
            assert post(bob, url).status_code == 404  # not even told that the job exists
            assert post(bob, "/jobs/abc/cancel").status_code == 404
            assert post(bob, "/jobs/99999999999999999999/cancel").status_code == 404
        with browser(jobs_plaza) as anonymous:
            refused = post(anonymous, url)
            assert refused.status_code == 401
            assert "Log in to run jobs." in refused.text
        assert jobs.get(job["id"]) == job

        # The same form from alice does cancel it: the refusals above were not a wrong address.
        with browser(jobs_plaza) as alice:
            assert log_in(alice, "alice").status_code == 303
            cancelled = post(alice, url)
            assert cancelled.status_code == 303 and cancelled.headers["location"] == f"/jobs/{job['id']}"
        assert jobs.get(job["id"])["state"] == "cancelled"


def test_refs_refuse_the_default_branch_unknown_refs_and_other_peoples_repos(api, alice, bob):
    repo_id = alice_repo(api)
    before = state(api, repo_id)
    delete = f"/{repo_id}/refs/delete"
    main = post(alice, delete, kind="branch", name="main")
    assert main.status_code == 403
    assert "The default branch &#39;main&#39; cannot be deleted" in main.text
    assert post(alice, delete, kind="branch", name="no-such").status_code == 404
    assert post(alice, delete, kind="tag", name="no-such").status_code == 404
    bogus = post(alice, delete, kind="bogus", name="dev")
    assert bogus.status_code == 400
    assert "choose a branch or a tag" in bogus.text
    assert post(bob, delete, kind="branch", name="dev").status_code == 403
    assert post(bob, f"/{repo_id}/refs", kind="branch", name="bobs", revision="main").status_code == 403
    taken = post(alice, f"/{repo_id}/refs", kind="branch", name="dev", revision="main")
    assert taken.status_code == 409
    assert 'value="dev"' in taken.text  # the form comes back with what was typed
    assert post(alice, f"/{repo_id}/refs", kind="tag", name="v1", revision="main").status_code == 409
    assert state(api, repo_id) == before


def test_the_card_editor_refuses_readers_and_hides_private_repos(api, bob, anonymous):
    public = alice_repo(api)
    before = state(api, public)
    card = {"text": "---\nlicense: mit\n---\n# bob was here\n", "title": "Bob's card"}
    assert post(bob, f"/{public}/edit/main/README.md", **card).status_code == 403
    assert post(anonymous, f"/{public}/edit/main/README.md", **card).status_code == 401
    assert state(api, public) == before
    assert not api.file_exists(public, "README.md")

    private = alice_repo(api, private=True)
    for client in (bob, anonymous):
        assert post(client, f"/{private}/preview", text="# peek").status_code == 404
        assert post(client, f"/{private}/edit/main/README.md", **card).status_code == 404
    assert not api.file_exists(private, "README.md")


@pytest.mark.parametrize("filename", ["../evil.txt", "a/../../b.txt"])
@pytest.mark.parametrize("script", [True, False], ids=["script", "no-script"])
def test_uploads_cannot_leave_the_repo(api, alice, filename, script):
    repo_id = alice_repo(api)
    before = state(api, repo_id)
    files = {"files": (filename, b"evil\n", "text/plain")}
    url = f"/{repo_id}/upload/main"
    if script:  # as the page's script sends it: the token in a header, JSON back
        headers = {"X-CSRF-Token": csrf(alice), "Accept": "application/json"}
        response = alice.post(url, files=files, headers=headers)
        assert response.status_code == 400
        assert response.json()["error"].startswith(f"Invalid path {filename!r}")
    else:  # a plain form post: the token in the body, the upload page back with the error
        response = alice.post(url, files=files, data={"csrf_token": csrf(alice)})
        assert response.status_code == 400
        assert "Invalid path" in response.text
    assert state(api, repo_id) == before


def test_deleting_a_file_needs_the_file_a_branch_and_the_right_to_write(api, alice, bob):
    repo_id = alice_repo(api)
    before = state(api, repo_id)
    assert post(alice, f"/{repo_id}/delete/main/missing.txt").status_code == 404
    assert post(bob, f"/{repo_id}/delete/main/weights.txt").status_code == 403
    on_tag = post(alice, f"/{repo_id}/delete/v1/weights.txt")
    assert on_tag.status_code == 400
    assert "&#39;v1&#39; is not a branch" in on_tag.text
    assert state(api, repo_id) == before


def test_settings_refuse_unknown_visibility_and_non_admins(api, alice, bob):
    repo_id = alice_repo(api)
    before = state(api, repo_id)
    bogus = post(alice, f"/{repo_id}/settings", visibility="bogus")
    assert bogus.status_code == 400
    assert "Choose public or private" in bogus.text
    assert post(bob, f"/{repo_id}/settings", visibility="private").status_code == 403
    assert post(bob, f"/{repo_id}/settings/delete", confirm=repo_id).status_code == 403
    wrong = post(alice, f"/{repo_id}/settings/delete", confirm="alice/something-else")
    assert wrong.status_code == 400
    assert "Nothing was deleted" in wrong.text
    assert state(api, repo_id) == before


def test_likes_need_a_repo_the_visitor_can_see(api, bob):
    private = alice_repo(api, private=True)
    assert post(bob, f"/{private}/like", liked="1").status_code == 404
    assert post(bob, "/alice/no-such-repo/like", liked="1").status_code == 404
    assert post(bob, f"/datasets/{private}/like", liked="1").status_code == 404  # a model, not a dataset
    assert list(api.list_repo_likers(private)) == []
    assert api.repo_info(private).likes == 0
