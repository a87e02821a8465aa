"""Names are one regardless of case: accounts, organisations and repo ids are found whatever
case they are asked in, answer with their own spelling, and cannot be taken twice in two cases."""

from __future__ import annotations

import pytest

from modelplaza.errors import AlreadyExists, Forbidden, RepoNotFound


@pytest.fixture
def alice(hub):
    return hub.as_user("alice")


def test_an_account_name_is_taken_in_every_case(hub):
    for name in ("Alice", "ALICE", "aLiCe"):
        with pytest.raises(AlreadyExists, match="already taken by 'alice'"):
            hub.add_user(name)
    hub.add_org("Acme", "ALICE", BOB="write")  # users are found whatever the case
    with pytest.raises(AlreadyExists):
        hub.add_org("acme", "bob")
    with pytest.raises(AlreadyExists):
        hub.add_user("ACME")


def test_repo_ids_are_found_in_any_case_and_answer_with_their_own(hub, alice):
    hub.create_repo(alice, "alice/Iris")
    assert hub.repo_id(alice, "ALICE/iris") == "alice/Iris"
    assert hub.resolve(alice, "Alice/IRIS") == hub.resolve(alice, "alice/Iris")
    hub.commit(alice, "alice/IRIS", {"a.txt": b"written through another case"})
    assert hub.files(alice, "alice/Iris")["a.txt"] == b"written through another case"


def test_a_repo_id_cannot_be_created_twice_in_two_cases(hub, alice):
    hub.create_repo(alice, "alice/iris")
    for other_case in ("alice/IRIS", "Alice/Iris", "ALICE/iris"):
        with pytest.raises(AlreadyExists):
            hub.create_repo(alice, other_case)
    assert hub.visible_repos(alice, author="alice") == {"alice/iris"}


def test_a_repo_created_in_another_case_of_the_namespace_lands_in_it(hub, alice):
    hub.create_repo(alice, "ALICE/Demo")
    assert hub.visible_repos(alice, author="Alice") == {"alice/Demo"}
    with pytest.raises(Forbidden):
        hub.create_repo(hub.as_user("bob"), "Alice/other")


def test_a_private_repo_stays_hidden_in_any_case(hub, alice):
    hub.create_repo(alice, "alice/secret", private=True)
    bob = hub.as_user("bob")
    for other_case in ("alice/SECRET", "ALICE/secret"):
        with pytest.raises(RepoNotFound):
            hub.resolve(bob, other_case)
    assert hub.repo_id(alice, "Alice/Secret") == "alice/secret"
