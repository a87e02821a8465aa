"""Who may see, write and administer a repo: the rules ``auth.permissions`` decides, as the hub
applies them to owners, organisation members, outsiders, anonymous visitors and token scopes."""

from __future__ import annotations

import pytest

from modelplaza.errors import (
    AlreadyExists,
    AuthenticationRequired,
    Forbidden,
    InvalidCredentials,
    JobNotFound,
    RepoNotFound,
)
from tests.domain.conftest import ANONYMOUS, training_spec


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


@pytest.fixture
def alices_plaza(team):
    """alice's private dataset, private model and public model, and acme's repo she writes."""
    alice = team.as_user("alice")
    team.create_repo(alice, "alice/digits", private=True, repo_type="dataset")
    team.create_repo(alice, "alice/notes", private=True)
    team.create_repo(alice, "alice/open")
    team.create_repo(alice, "acme/shared")
    return team


def test_a_jobs_token_reads_what_its_spec_names_and_what_anyone_may(alices_plaza):
    hub = alices_plaza
    _, job = hub.running_job(hub.as_user("alice"), training_spec("alice/digits", "alice/trained"))
    assert hub.resolve(job, "alice/digits", repo_type="dataset")
    assert hub.resolve(job, "alice/open")  # public: no token needed for it anyway
    with pytest.raises(RepoNotFound):
        hub.resolve(job, "alice/notes")  # private and not in the spec: as if it did not exist
    assert hub.visible_repos(job) == {"alice/open", "acme/shared"}


def test_a_jobs_token_creates_and_writes_its_output_repo_only(alices_plaza):
    hub = alices_plaza
    _, job = hub.running_job(hub.as_user("alice"), training_spec("alice/digits", "alice/trained"))
    with pytest.raises(Forbidden, match="makes alice/trained a public repo"):
        hub.create_repo(job, "alice/trained", private=True)
    hub.create_repo(job, "alice/trained")
    hub.commit(job, "alice/trained", {"model.safetensors": b"weights"})
    hub.branch(job, "alice/trained", "v2")
    with pytest.raises(Forbidden):
        hub.create_repo(job, "alice/another")
    for elsewhere in ("alice/open", "acme/shared"):
        with pytest.raises(Forbidden, match="writes only to its output repo"):
            hub.commit(job, elsewhere, {"planted.txt": b"x"})
    with pytest.raises(RepoNotFound):
        hub.commit(job, "alice/notes", {"planted.txt": b"x"})


def test_a_jobs_token_neither_deletes_nor_changes_settings_even_of_its_output(alices_plaza):
    hub = alices_plaza
    alice = hub.as_user("alice")
    hub.create_repo(alice, "alice/trained", private=True)
    _, job = hub.running_job(alice, training_spec("alice/digits", "alice/trained", private=True))
    for repo_id in ("alice/trained", "alice/open"):
        with pytest.raises(Forbidden, match="cannot delete repos or change their settings"):
            hub.delete_repo(job, repo_id)
        with pytest.raises(Forbidden, match="cannot delete repos or change their settings"):
            hub.set_private(job, repo_id, False)
    with pytest.raises(RepoNotFound):
        hub.delete_repo(job, "alice/notes")
    assert hub.resolve(alice, "alice/trained") and hub.resolve(alice, "alice/open")


def test_an_admins_job_is_as_narrow_as_anyone_elses(alices_plaza):
    hub = alices_plaza
    _, job = hub.running_job(hub.as_user("root"), training_spec("alice/digits", "root/trained"))
    assert hub.resolve(job, "alice/digits", repo_type="dataset")
    with pytest.raises(RepoNotFound):
        hub.resolve(job, "alice/notes")
    with pytest.raises(Forbidden):
        hub.commit(job, "acme/shared", {"planted.txt": b"x"})
    with pytest.raises(Forbidden):
        hub.delete_repo(job, "alice/open")


def test_a_jobs_token_sees_its_own_job_only(alices_plaza):
    hub = alices_plaza
    alice = hub.as_user("alice")
    own, job = hub.running_job(alice, training_spec("alice/digits", "alice/trained"))
    other = hub.submit_job(alice, "another job")
    assert hub.job(job, own).id == own
    with pytest.raises(JobNotFound):
        hub.job(job, other)
    with pytest.raises(JobNotFound):
        hub.cancel(job, other)


def test_a_spec_that_names_nothing_gives_a_token_that_reaches_nothing(alices_plaza):
    hub = alices_plaza
    _, job = hub.running_job(hub.as_user("alice"), {})
    with pytest.raises(RepoNotFound):
        hub.resolve(job, "alice/digits", repo_type="dataset")
    with pytest.raises(Forbidden):
        hub.create_repo(job, "alice/trained")
