"""The integration suite's plaza, with users and tokens made through the ``plaza admin`` CLI as
an operator would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.plaza_server import PORT, PlazaServer, running_plaza


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


@pytest.fixture
def repo_name() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def no_xet(monkeypatch):
    """Send large files over LFS as ``HF_HUB_DISABLE_XET=1`` does."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
