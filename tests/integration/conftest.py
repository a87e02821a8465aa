"""The integration suite's plaza, with users and tokens made through the ``plaza admin`` CLI as
an operator would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.plaza_server import PORT, PlazaServer, free_port, running_plaza


@pytest.fixture(scope="session")
def plaza() -> Iterator[PlazaServer]:
    with running_plaza("data", PORT) as server:
        server.cli("admin", "create-user", "alice", "--password", "alice-password")
        server.cli("admin", "create-user", "bob", "--password", "bob-password")
        server.cli("admin", "create-user", "root", "--password", "root-password", "--admin")
        server.cli("admin", "create-org", "acme", "--owner", "alice")
        server.cli("admin", "add-member", "acme", "bob", "--role", "write")
        for user in ("alice", "bob", "root"):
            server.tokens[user] = server.token(user)
        server.tokens["alice-read"] = server.token("alice", write=False)
        yield server


@pytest.fixture
def api(plaza):
    from huggingface_hub import HfApi

    return HfApi(endpoint=plaza.url, token=plaza.tokens["alice"])


@pytest.fixture(scope="session")
def xet_plaza() -> Iterator[PlazaServer]:
    """A second plaza with the server-wide ``PLAZA_XET_DOWNLOADS`` on, for the tests of Xet
    downloads only. The clients' default endpoint is the session's ``plaza``, so tests pass
    this one's explicitly (``HfApi(endpoint=...)``, ``hf_hub_download(..., endpoint=...)``)."""
    with running_plaza("xet-downloads", free_port(), PLAZA_XET_DOWNLOADS="1") as server:
        server.cli("admin", "create-user", "alice", "--password", "alice-password")
        server.tokens["alice"] = server.token("alice")
        yield server


@pytest.fixture
def xet_api(xet_plaza):
    from huggingface_hub import HfApi

    return HfApi(endpoint=xet_plaza.url, token=xet_plaza.tokens["alice"])


@pytest.fixture
def repo_name() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def repo_id(api, repo_name) -> str:
    """alice's fresh public model repo."""
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    return repo_id


@pytest.fixture
def no_xet(monkeypatch):
    """Send large files over LFS as ``HF_HUB_DISABLE_XET=1`` does."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
