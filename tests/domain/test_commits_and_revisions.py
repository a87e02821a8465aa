"""Commits and revisions: what a repo's history promises, whoever writes to it."""

from __future__ import annotations

import pytest

from modelplaza.errors import BadRequest, CommitConflict, EntryNotFound, InvalidName, RevisionNotFound


@pytest.fixture
def alice(hub):
    return hub.as_user("alice")


@pytest.fixture
def repo(hub, alice) -> str:
    hub.create_repo(alice, "alice/model")
    return "alice/model"


def test_a_new_repo_starts_with_one_commit_on_main(hub, alice, repo):
    assert set(hub.files(alice, repo)) == {".gitattributes"}
    assert hub.resolve(alice, repo) == hub.resolve(alice, repo, "main")


def test_a_commit_whose_parent_is_no_longer_the_head_is_refused(hub, alice, repo):
    base = hub.resolve(alice, repo)
    hub.commit(alice, repo, {"a.txt": b"first"}, parent=base)
    with pytest.raises(CommitConflict):
        hub.commit(alice, repo, {"a.txt": b"stale"}, parent=base)
    assert hub.files(alice, repo)["a.txt"] == b"first"


def test_a_commit_is_all_or_nothing(hub, alice, repo):
    hub.commit(alice, repo, {"keep.txt": b"kept"})
    head = hub.resolve(alice, repo)
    with pytest.raises(EntryNotFound):
        hub.commit(alice, repo, {"new.txt": b"never seen"}, delete=("missing.txt",))
    assert hub.resolve(alice, repo) == head
    assert "new.txt" not in hub.files(alice, repo)


def test_a_path_cannot_be_a_file_and_a_folder(hub, alice, repo):
    hub.commit(alice, repo, {"weights": b"a file"})
    with pytest.raises(BadRequest):
        hub.commit(alice, repo, {"weights/part-1.bin": b"inside it"})


def test_branch_tag_and_commit_ids_full_or_short_name_the_same_commit(hub, alice, repo):
    commit = hub.commit(alice, repo, {"config.json": b"{}"})
    hub.tag(alice, repo, "v1.0", "main")
    hub.branch(alice, repo, "dev", commit)
    for revision in ("main", "refs/heads/main", "v1.0", "refs/tags/v1.0", "dev", commit, commit[:8]):
        assert hub.resolve(alice, repo, revision) == commit, revision
    for unknown in ("nope", "refs/heads/v1.0", "refs/tags/main", "0" * 40):
        with pytest.raises(RevisionNotFound):
            hub.resolve(alice, repo, unknown)


def test_old_revisions_keep_their_files_when_the_branch_moves_on(hub, alice, repo):
    first = hub.commit(alice, repo, {"model.bin": b"v1"})
    hub.tag(alice, repo, "v1", first)
    hub.commit(alice, repo, {"model.bin": b"v2", "extra.txt": b"new"})
    hub.commit(alice, repo, delete=("extra.txt",))
    assert hub.files(alice, repo, "v1")["model.bin"] == b"v1"
    assert hub.files(alice, repo, first) == hub.files(alice, repo, "v1")
    assert hub.files(alice, repo)["model.bin"] == b"v2" and "extra.txt" not in hub.files(alice, repo)


def test_branches_move_independently(hub, alice, repo):
    hub.branch(alice, repo, "experiment")
    hub.commit(alice, repo, {"idea.txt": b"try this"}, branch="experiment")
    assert "idea.txt" in hub.files(alice, repo, "experiment")
    assert "idea.txt" not in hub.files(alice, repo, "main")
    with pytest.raises(RevisionNotFound):
        hub.commit(alice, repo, {"x": b"x"}, branch="no-such-branch")


def test_a_full_commit_id_always_names_that_commit_whatever_refs_are_called(hub, alice, repo):
    first = hub.resolve(alice, repo)
    later = hub.commit(alice, repo, {"a.txt": b"later"})
    # A plaza from before today's name rules may hold a branch and a tag named like a commit.
    hub.old_ref(repo, "branch", first, later)
    hub.old_ref(repo, "tag", first, later)
    assert hub.resolve(alice, repo, first) == first
    assert set(hub.files(alice, repo, first)) == {".gitattributes"}
    # The ref itself is still reachable by its full name.
    assert hub.resolve(alice, repo, f"refs/heads/{first}") == later
    assert hub.resolve(alice, repo, f"refs/tags/{first}") == later


def test_branches_and_tags_cannot_be_named_like_commit_ids(hub, alice, repo):
    commit = hub.resolve(alice, repo)
    for name in (commit, commit.upper(), "0" * 40, f"refs/heads/{commit}"):
        with pytest.raises(InvalidName, match="looks like a commit id"):
            hub.branch(alice, repo, name)
        with pytest.raises(InvalidName, match="looks like a commit id"):
            hub.tag(alice, repo, name.replace("refs/heads/", "refs/tags/"), "main")
    assert hub.resolve(alice, repo, commit) == commit


def test_a_branch_named_like_a_short_commit_id_wins_over_it_as_in_git(hub, alice, repo):
    first = hub.resolve(alice, repo)
    later = hub.commit(alice, repo, {"a.txt": b"later"})
    hub.branch(alice, repo, first[:8], later)
    assert hub.resolve(alice, repo, first[:8]) == later
    assert hub.resolve(alice, repo, first[:9]) == first
    assert hub.resolve(alice, repo, first) == first
