"""Who may see, write and administer a repo: the rules ``auth.permissions`` decides, as the hub
applies them to owners, organisation members, outsiders, anonymous visitors and token scopes."""

from __future__ import annotations

import pytest

from modelplaza.errors import (
    AlreadyExists,
    AuthenticationRequired,
    Forbidden,
    InvalidCredentials,
    RepoNotFound,
)
from tests.domain.conftest import ANONYMOUS


@pytest.fixture
def team(hub):
    """acme, owned by alice, with carol reading and dave writing."""
    hub.add_user("carol")
    hub.add_user("dave")
    hub.add_org("acme", "alice", carol="read", dave="write")
    return hub


def test_a_private_repo_is_seen_only_by_its_namespace_and_admins(team):
    alice = team.as_user("alice")
    team.create_repo(alice, "acme/secret", private=True)
    team.create_repo(alice, "acme/open")
    for insider in ("alice", "carol", "dave", "root"):
        who = team.as_user(insider, write=False)
        assert team.resolve(who, "acme/secret")
        assert {"acme/secret", "acme/open"} <= team.visible_repos(who)
    for outsider in (team.as_user("bob"), ANONYMOUS):
        # The same answer as for a repo that does not exist: its name is not revealed.
        with pytest.raises(RepoNotFound):
            team.resolve(outsider, "acme/secret")
        assert "acme/secret" not in team.visible_repos(outsider)
        assert "acme/open" in team.visible_repos(outsider)


def test_writing_takes_a_write_token_and_a_write_role(team):
    alice = team.as_user("alice")
    team.create_repo(alice, "acme/model")
    team.commit(team.as_user("dave"), "acme/model", {"by-dave.txt": b"ok"})
    with pytest.raises(Forbidden):
        team.commit(team.as_user("carol"), "acme/model", {"by-carol.txt": b"no"})
    with pytest.raises(Forbidden):
        team.commit(team.as_user("alice", write=False), "acme/model", {"read-token.txt": b"no"})
    with pytest.raises(AuthenticationRequired):
        team.commit(ANONYMOUS, "acme/model", {"anonymous.txt": b"no"})
    assert set(team.files(alice, "acme/model")) == {".gitattributes", "by-dave.txt"}


def test_only_namespace_admins_delete_a_repo(team):
    team.create_repo(team.as_user("alice"), "acme/model")
    with pytest.raises(Forbidden):
        team.delete_repo(team.as_user("dave"), "acme/model")
    team.delete_repo(team.as_user("alice"), "acme/model")
    with pytest.raises(RepoNotFound):
        team.resolve(team.as_user("alice"), "acme/model")


def test_repos_are_created_only_where_one_may_write(team):
    team.create_repo(team.as_user("dave"), "acme/from-dave")
    for who, namespace in ((team.as_user("carol"), "acme"), (team.as_user("bob"), "alice")):
        with pytest.raises(Forbidden):
            team.create_repo(who, f"{namespace}/not-theirs")
    with pytest.raises(Forbidden):
        team.create_repo(team.as_user("alice", write=False), "alice/read-token")


def test_creating_a_repo_twice_says_it_exists(team):
    alice = team.as_user("alice")
    team.create_repo(alice, "acme/model", private=True)
    for who in (alice, team.as_user("dave"), team.as_user("root")):
        with pytest.raises(AlreadyExists):
            team.create_repo(who, "acme/model")


def test_a_revoked_token_stops_working(hub):
    token = hub.new_token("bob")
    assert hub.principal(token).name == "bob"
    hub.revoke_tokens("bob")
    with pytest.raises(InvalidCredentials):
        hub.principal(token)
