"""The policy's decision table: every action, for every kind of caller, on public and private
resources. A cell is what ``require`` answers: ok, or the HTTP status of the error it raises.

The two job tokens are for jobs whose spec reads the private ``alice/input`` and writes
``alice/output`` (created public if missing): one of alice's jobs, and one of the site admin's."""

from __future__ import annotations

import pytest

from modelplaza.auth import permissions
from modelplaza.auth.permissions import Action, NewRepo
from modelplaza.auth.principal import (
    ANONYMOUS,
    Authenticated,
    JobOutput,
    JobRepos,
    JobScope,
    Principal,
    RepoRef,
    Scope,
)
from modelplaza.db.models import Job, Repo
from modelplaza.errors import PlazaError

ALICE, BOB, CAROL, DAVE, ROOT, EVE = range(1, 7)
JOB_REPOS = JobRepos(
    reads=frozenset({RepoRef("model", "alice/input")}),
    output=JobOutput(RepoRef("model", "alice/output"), create=True, private=False),
)


def _user(user_id: int, name: str, scope: Scope = Scope.WRITE, **fields: object) -> Authenticated:
    return Authenticated(user_id=user_id, name=name, scope=scope, **fields)  # type: ignore[arg-type]


# The columns of the table, in order.
PRINCIPALS: dict[str, Principal] = {
    "anonymous": ANONYMOUS,
    "read token": _user(ALICE, "alice", Scope.READ, token_name="ci"),
    "write token": _user(ALICE, "alice", token_name="laptop"),
    "browser on the API": permissions.browser_on_api(_user(ALICE, "alice")),
    "job token": _user(ALICE, "alice", token_name="job 7", job=JobScope(7, JOB_REPOS)),
    "org reader": _user(BOB, "bob", org_roles={"lab": "read"}),
    "org writer": _user(CAROL, "carol", org_roles={"lab": "write"}),
    "org admin": _user(DAVE, "dave", org_roles={"lab": "admin"}),
    "org admin, read token": _user(DAVE, "dave", Scope.READ, org_roles={"lab": "admin"}),
    "site admin": _user(ROOT, "root", is_admin=True),
    "site admin's job": _user(ROOT, "root", is_admin=True, token_name="job 10", job=JobScope(10, JOB_REPOS)),
    "stranger": _user(EVE, "eve"),
}


def _repo(namespace: str, private: bool, name: str | None = None) -> Repo:
    name = name or ("private" if private else "public")
    return Repo(type="model", namespace=namespace, name=name, private=private)


RESOURCES: dict[str, object] = {
    "alice/public": _repo("alice", private=False),
    "alice/private": _repo("alice", private=True),
    "lab/public": _repo("lab", private=False),
    "lab/private": _repo("lab", private=True),
    "alice/input": _repo("alice", private=True, name="input"),
    "alice/output": _repo("alice", private=False, name="output"),
    "new alice/output": NewRepo("model", "alice", "output", private=False),
    "new private alice/output": NewRepo("model", "alice", "output", private=True),
    "new alice/other": NewRepo("model", "alice", "other", private=False),
    "job 7 (alice's)": Job(id=7, owner_id=ALICE),
    "job 8 (bob's)": Job(id=8, owner_id=BOB),
    "job 9 (alice's)": Job(id=9, owner_id=ALICE),
    "job 10 (root's)": Job(id=10, owner_id=ROOT),
    "namespace alice": "alice",
    "namespace lab": "lab",
    "namespace ALICE": "ALICE",
    "namespace Lab": "Lab",
    "job 7 id": 7,
    "nothing": None,
}

# anonymous, read token, write token, browser on the API, job token, org reader, org writer,
# org admin, org admin with a read token, site admin, site admin's job, stranger
TABLE = [
    (Action.READ_REPO, "alice/public", "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    (Action.READ_REPO, "alice/private", "404 ok  ok  ok  404 404 404 404 404 ok  404 404"),
    (Action.READ_REPO, "alice/input", "404 ok  ok  ok  ok  404 404 404 404 ok  ok  404"),
    (Action.READ_REPO, "lab/public", "ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok  ok"),
    (Action.READ_REPO, "lab/private", "404 404 404 404 404 ok  ok  ok  ok  ok  404 404"),
    (Action.WRITE_REPO, "alice/public", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.WRITE_REPO, "alice/private", "404 403 ok  403 404 404 404 404 404 ok  404 404"),
    (Action.WRITE_REPO, "alice/input", "404 403 ok  403 403 404 404 404 404 ok  403 404"),
    (Action.WRITE_REPO, "alice/output", "401 403 ok  403 ok  403 403 403 403 ok  ok  403"),
    (Action.WRITE_REPO, "lab/public", "401 403 403 403 403 403 ok  ok  403 ok  403 403"),
    (Action.WRITE_REPO, "lab/private", "404 404 404 404 404 403 ok  ok  403 ok  404 404"),
    (Action.ADMIN_REPO, "alice/public", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.ADMIN_REPO, "alice/output", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.ADMIN_REPO, "lab/public", "401 403 403 403 403 403 403 ok  403 ok  403 403"),
    (Action.ADMIN_REPO, "lab/private", "404 404 404 404 404 403 403 ok  403 ok  404 404"),
    (Action.LIKE_REPO, "lab/public", "401 403 ok  403 403 ok  ok  ok  403 ok  403 ok"),
    (Action.LIKE_REPO, "lab/private", "404 404 404 404 404 ok  ok  ok  403 ok  404 404"),
    (Action.CREATE_REPO, "namespace alice", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.CREATE_REPO, "namespace lab", "401 403 403 403 403 403 ok  ok  403 ok  403 403"),
    # Names are one account whatever their case: alice's rights hold under "ALICE".
    (Action.CREATE_REPO, "namespace ALICE", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.CREATE_REPO, "namespace Lab", "401 403 403 403 403 403 ok  ok  403 ok  403 403"),
    (Action.CREATE_REPO, "new alice/output", "401 403 ok  403 ok  403 403 403 403 ok  ok  403"),
    (Action.CREATE_REPO, "new private alice/output", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.CREATE_REPO, "new alice/other", "401 403 ok  403 403 403 403 403 403 ok  403 403"),
    (Action.MANAGE_ORG, "namespace lab", "401 403 403 403 403 403 403 ok  403 ok  403 403"),
    (Action.MANAGE_ORG, "namespace Lab", "401 403 403 403 403 403 403 ok  403 ok  403 403"),
    (Action.LIST_JOBS, "nothing", "401 ok  ok  ok  403 ok  ok  ok  ok  ok  403 ok"),
    (Action.SUBMIT_JOB, "nothing", "401 403 ok  403 403 ok  ok  ok  403 ok  403 ok"),
    (Action.READ_JOB, "job 7 (alice's)", "404 ok  ok  ok  ok  404 404 404 404 ok  404 404"),
    (Action.READ_JOB, "job 9 (alice's)", "404 ok  ok  ok  404 404 404 404 404 ok  404 404"),
    (Action.READ_JOB, "job 8 (bob's)", "404 404 404 404 404 ok  404 404 404 ok  404 404"),
    (Action.READ_JOB, "job 10 (root's)", "404 404 404 404 404 404 404 404 404 ok  ok  404"),
    (Action.CANCEL_JOB, "job 7 (alice's)", "404 403 ok  403 403 404 404 404 404 ok  404 404"),
    (Action.CANCEL_JOB, "job 9 (alice's)", "404 403 ok  403 404 404 404 404 404 ok  404 404"),
    (Action.REPORT_JOB, "job 7 id", "403 403 403 403 ok  403 403 403 403 403 403 403"),
]

CASES = [
    pytest.param(action, resource, principal, cell, id=f"{action.name} {resource} by {principal}")
    for action, resource, row in TABLE
    for principal, cell in zip(PRINCIPALS, row.split(), strict=True)
]


@pytest.mark.parametrize(("action", "resource", "principal", "expected"), CASES)
def test_decision(action: Action, resource: str, principal: str, expected: str) -> None:
    who, what = PRINCIPALS[principal], RESOURCES[resource]
    try:
        answer = permissions.require(who, action, what)  # type: ignore[call-overload]
    except PlazaError as exc:
        outcome = str(exc.status)
        answer = None
    else:
        outcome = "ok"
    assert outcome == expected
    assert permissions.allowed(who, action, what) is (expected == "ok")  # type: ignore[call-overload]
    if outcome == "ok" and action is not Action.READ_REPO:
        assert answer is who  # the signed-in user, for authors and owners


def test_every_action_is_in_the_table() -> None:
    assert {action for action, _, _ in TABLE} == set(Action)


def test_a_report_for_another_job_is_refused_even_to_its_owner() -> None:
    for principal in PRINCIPALS.values():
        assert not permissions.allowed(principal, Action.REPORT_JOB, 8)


def test_hidden_things_answer_as_if_they_did_not_exist() -> None:
    with pytest.raises(PlazaError) as hidden:
        permissions.require(ANONYMOUS, Action.WRITE_REPO, RESOURCES["lab/private"])  # type: ignore[call-overload]
    assert hidden.value.message == "Repository not found: model lab/private"
    assert hidden.value.message == permissions.hidden_repo("model", "lab", "private").message


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_query_filters_agree_with_the_decisions(principal: str) -> None:
    """The list queries filter with readable_namespaces and visible_job_owner: they must say
    what READ_REPO and READ_JOB say."""
    who = PRINCIPALS[principal]
    is_job = isinstance(who, Authenticated) and who.job is not None
    namespaces = permissions.readable_namespaces(who)
    for resource in RESOURCES.values():
        if isinstance(resource, Repo):
            listed = not resource.private or namespaces is None or resource.namespace in namespaces
            if is_job:  # a job lists public repos only; it reads its private inputs by name
                assert listed is not resource.private
                assert not listed or permissions.allowed(who, Action.READ_REPO, resource)
            else:
                assert listed is permissions.allowed(who, Action.READ_REPO, resource)
        if isinstance(resource, Job) and isinstance(who, Authenticated) and not is_job:
            owner = permissions.visible_job_owner(who)
            assert (owner is None or owner == resource.owner_id) is permissions.allowed(
                who, Action.READ_JOB, resource
            )


def test_an_action_on_the_wrong_kind_of_resource_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        permissions.allowed(ANONYMOUS, Action.READ_REPO, "alice")  # type: ignore[call-overload]
