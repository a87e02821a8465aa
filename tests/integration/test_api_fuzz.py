"""The whole API, fuzzed from its own OpenAPI document (``/api/openapi.json``) by schemathesis:
whatever it sends, no answer is a server error.

It runs against a plaza of its own (the requests create and change repos at random), with a
real write token, so that the routes behind authentication are explored too, and half of the
generated path parameters name a repo, revision and file that exist, so that requests get past
"not found". The run is bounded and repeatable: a fixed number of examples per operation,
derandomized."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from huggingface_hub import HfApi
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig

from tests.plaza_server import PlazaServer, free_port, running_plaza

EXAMPLES_PER_OPERATION = 25


@pytest.fixture(scope="module")
def fuzz_plaza() -> Iterator[PlazaServer]:
    # No job runs: a generated recipe that happened to be valid would train on this machine.
    with running_plaza("fuzz", free_port(), PLAZA_EMBEDDED_WORKER="0") as server:
        server.cli("admin", "create-user", "alice", "--password", "alice-password")
        server.tokens["alice"] = server.token("alice")
        yield server


@pytest.fixture(scope="module")
def existing(fuzz_plaza) -> dict[str, str]:
    """Path parameters naming things that exist: a repo with a file, a branch and a tag."""
    api = HfApi(endpoint=fuzz_plaza.url, token=fuzz_plaza.tokens["alice"])
    name = f"fuzzed-{uuid.uuid4().hex[:8]}"
    repo_id = f"alice/{name}"
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=b"some text\n", path_in_repo="notes.txt", repo_id=repo_id)
    api.create_branch(repo_id, branch="dev")
    api.create_tag(repo_id, tag="v1")
    return {
        "type_plural": "models",
        "namespace": "alice",
        "user": "alice",
        "name": name,
        "name_git": f"{name}.git",
        "revision": "main",
        "branch": "dev",
        "tag": "v1",
        "path": "notes.txt",
    }


@pytest.fixture(scope="module")
def cas_token(fuzz_plaza, existing) -> str:
    """The Xet CAS takes its own tokens, not the API's."""
    url = f"{fuzz_plaza.url}/api/models/alice/{existing['name']}/xet-write-token/main"
    answer = httpx.get(url, headers={"Authorization": f"Bearer {fuzz_plaza.tokens['alice']}"})
    answer.raise_for_status()
    return answer.json()["accessToken"]


@pytest.fixture(scope="module")
def api_schema(fuzz_plaza, existing):
    # Settings from here alone, not from a schemathesis.toml that happens to be on the way.
    schema = schemathesis.openapi.from_url(
        f"{fuzz_plaza.url}/api/openapi.json", config=SchemathesisConfig.from_dict({})
    )

    @schema.hook
    def flatmap_path_parameters(context, path_parameters: dict | None) -> st.SearchStrategy:
        if not path_parameters:
            return st.just(path_parameters)
        real = {key: existing[key] for key in path_parameters if key in existing}
        return st.sampled_from([path_parameters, {**path_parameters, **real}])

    return schema


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context, value: object) -> dict:
    """The commit body: the generated text as it is, or a generated list as one JSON per line."""
    if isinstance(value, list):
        value = "\n".join(json.dumps(item) for item in value)
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return {"data": value}


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request) -> None:
    # schemathesis 4.32 names each operation's part of the run after ``node._nodeid``, which
    # pytest 9 no longer has: give it the test's id.
    request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_answer_is_a_server_error(case, fuzz_plaza, cas_token):
    token = cas_token if case.path.startswith("/cas/") else fuzz_plaza.tokens["alice"]
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error], timeout=30
    )
