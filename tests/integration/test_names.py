"""Name rules as the real clients meet them: repo ids and account names are one regardless of
case (answers carry the repo's own spelling, as on the Hub), names ending in a newline are
refused, and branches or tags cannot be named like commit ids."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from tests.integration.test_web_accounts import browser, log_in


def test_a_repo_is_found_in_any_case_and_answers_with_its_own(plaza, api, repo_name):
    repo_id = f"alice/{repo_name}-Iris"
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"petals", path_in_repo="data.txt", repo_id=repo_id)
    other_case = f"ALICE/{repo_name.upper()}-iris"

    assert api.model_info(other_case).id == repo_id
    downloaded = hf_hub_download(other_case, "data.txt", token=plaza.tokens["alice"])
    assert Path(downloaded).read_bytes() == b"petals"
    api.upload_file(path_or_fileobj=b"sepals", path_in_repo="more.txt", repo_id=other_case)
    assert api.list_repo_files(repo_id) == [".gitattributes", "data.txt", "more.txt"]
    with httpx.Client(base_url=plaza.url) as anonymous:
        answer = anonymous.get(f"/api/models/{other_case}")
        assert answer.status_code == 200 and answer.json()["id"] == repo_id


def test_a_repo_cannot_be_created_beside_one_differing_only_in_case(api, repo_name):
    repo_id = f"alice/{repo_name}-Iris"
    api.create_repo(repo_id)
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo(f"alice/{repo_name}-IRIS")
    assert conflict.value.response.status_code == 409
    # exist_ok gives the repo that exists, under its own name.
    assert api.create_repo(f"Alice/{repo_name}-iris", exist_ok=True).repo_id == repo_id
    assert api.create_repo(f"ALICE/{repo_name}-new").repo_id == f"alice/{repo_name}-new"
    names = {model.id for model in api.list_models(author="ALICE", search=repo_name)}
    assert names == {repo_id, f"alice/{repo_name}-new"}


def test_account_names_are_one_regardless_of_case(plaza):
    refused = plaza.cli("admin", "create-user", "Bob", "--password", "another-password", check=False)
    assert refused.returncode == 1
    assert "already taken by 'bob'" in refused.stderr
    # Logging in finds the account whatever the case it is typed in.
    with browser(plaza) as client:
        assert log_in(client, "ALICE", "alice-password").status_code == 303


def test_names_ending_in_a_newline_are_refused(plaza, repo_name):
    headers = {"Authorization": f"Bearer {plaza.tokens['alice']}"}
    with httpx.Client(base_url=plaza.url, headers=headers) as client:
        for body in ({"name": f"{repo_name}\n"}, {"name": repo_name, "organization": "alice\n"}):
            answer = client.post("/api/repos/create", json=body)
            assert answer.status_code == 400
            assert "Invalid" in answer.headers["X-Error-Message"]
        assert client.get(f"/api/models/alice/{repo_name}").status_code == 404
    refused = plaza.cli("admin", "create-user", "carol\n", "--password", "a-long-password", check=False)
    assert refused.returncode == 1 and "Invalid account name" in refused.stderr


def test_branches_and_tags_cannot_be_named_like_commit_ids(api, repo_name):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    commit = api.model_info(repo_id).sha
    api.upload_file(path_or_fileobj=b"later", path_in_repo="later.txt", repo_id=repo_id)
    with pytest.raises(BadRequestError, match="looks like a commit id"):
        api.create_branch(repo_id, branch=commit)
    with pytest.raises(BadRequestError, match="looks like a commit id"):
        api.create_tag(repo_id, tag=commit)
    # The pinned commit still gives what it held.
    assert api.list_repo_files(repo_id, revision=commit) == [".gitattributes"]
