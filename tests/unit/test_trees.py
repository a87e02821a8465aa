"""Trees per directory, commit generations and history pages, through the domain functions."""

import pytest
from sqlalchemy import func, select

from modelplaza.config import Settings
from modelplaza.db.models import Account, Repo, Tree, TreeItem
from modelplaza.errors import BadRequest, EntryNotFound
from modelplaza.hub import commits, diffs, refs, trees
from modelplaza.plaza import Plaza


@pytest.fixture
def plaza(tmp_path):
    plaza = Plaza(Settings(data_dir=tmp_path)).migrate()
    gitattributes = commits.default_gitattributes(plaza.blobs)
    with plaza.db.write() as session:
        session.add(owner := Account(name="alice", kind="user"))
        session.flush()
        session.add(repo := Repo(type="model", namespace="alice", name="tiny", owner_id=owner.id))
        session.flush()
        commits.initial_commit(session, repo, "alice", gitattributes)
    yield plaza
    plaza.close()


def _commit(plaza, *operations, branch="main"):
    with plaza.db.write() as session:
        repo = session.scalar(select(Repo))
        card = commits.readme_card(session, plaza.contents, list(operations))
        return commits.create_commit(
            session, repo, branch, list(operations), title="change", author="alice", card=card
        ).id


def _put(plaza, path, text):
    return commits.PutFile(path, commits.regular_file(plaza.blobs, text.encode()))


def _counts(plaza):
    with plaza.db.read() as session:
        return [session.scalar(select(func.count()).select_from(m)) for m in (Tree, TreeItem)]


def _subtree(plaza, commit, name):
    with plaza.db.read() as session:
        root = trees.root_of(session, commit)
        return trees.load_dirs(session, [root])[root][name]


def test_a_commit_stores_only_the_directories_it_changed(plaza):
    files = [_put(plaza, f"{folder}/{n}.txt", f"{folder} {n}") for folder in "abc" for n in range(3)]
    before = _commit(plaza, *files)
    stored = _counts(plaza)
    after = _commit(plaza, _put(plaza, "a/0.txt", "changed"))
    # The root and "a" again (4 and 3 entries); "b" and "c" are named, not copied.
    assert [now - then for now, then in zip(_counts(plaza), stored, strict=True)] == [2, 7]
    assert _subtree(plaza, before, "b") == _subtree(plaza, after, "b")
    assert _subtree(plaza, before, "a") != _subtree(plaza, after, "a")
    with plaza.db.read() as session:
        assert [(c.path, c.kind) for c in diffs.changed_files(session, after, before)] == [
            ("a/0.txt", "modified")
        ]
        assert trees.get_file(session, after, "b/1.txt").size == len("b 1")
        assert trees.get_file(session, after, "b") is None


def test_listing_oids_are_those_of_the_whole_tree(plaza):
    commit = _commit(plaza, _put(plaza, "x/y/z.txt", "z"), _put(plaza, "x/w.txt", "w"))
    with plaza.db.read() as session:
        listed = trees.snapshot(session, commit)
        assert listed.dir_oids == trees.Snapshot.build(trees.load_files(session, commit)).dir_oids
        assert _subtree(plaza, commit, "x").oid == listed.dir_oids["x"]


def test_deleting_the_last_file_of_a_folder_removes_the_folder(plaza):
    _commit(plaza, _put(plaza, "a/b/c.txt", "c"), _put(plaza, "keep.txt", "k"))
    commit = _commit(plaza, commits.DeletePath("a/b/c.txt"))
    with plaza.db.read() as session:
        listed = trees.snapshot(session, commit)
    assert not listed.is_dir("a") and "keep.txt" in listed.files


def test_bad_paths_are_refused(plaza):
    _commit(plaza, _put(plaza, "keep.txt", "k"), _put(plaza, "folder/file.txt", "f"))
    with pytest.raises(BadRequest, match="'keep.txt' is a file"):
        _commit(plaza, _put(plaza, "keep.txt/inside.txt", "x"))
    with pytest.raises(BadRequest, match="is a folder"):
        _commit(plaza, _put(plaza, "folder", "x"))
    with pytest.raises(EntryNotFound):
        _commit(plaza, commits.DeletePath("missing.txt"))
    with pytest.raises(EntryNotFound):
        _commit(plaza, commits.DeletePath("keep.txt", folder=True))
    # A folder may be deleted and a file put in its place by one commit.
    commit = _commit(plaza, commits.DeletePath("folder", folder=True), _put(plaza, "folder", "now a file"))
    with plaza.db.read() as session:
        assert trees.get_file(session, commit, "folder") is not None


def test_history_pages_follow_the_branch_by_generation(plaza):
    on_main = [_commit(plaza, _put(plaza, "n.txt", str(n))) for n in range(5)]
    with plaza.db.write() as session:
        refs.create_branch(session, session.scalar(select(Repo)), "side", on_main[1])
    on_side = [_commit(plaza, _put(plaza, "s.txt", str(n)), branch="side") for n in range(3)]
    with plaza.db.read() as session:
        pages = [commits.history_page(session, on_side[-1], page, 2) for page in range(4)]
    # initial, main 0 and 1, then the side branch: 6 commits, main's later ones not among them.
    assert [page.total for page in pages] == [6] * 4
    shown = [[c.id for c in page.commits] for page in pages]
    assert shown == [on_side[:0:-1], [on_side[0], on_main[1]], [on_main[0], shown[2][1]], []]
    assert [c.generation for page in pages for c in page.commits] == [6, 5, 4, 3, 2, 1]
    with plaza.db.read() as session:
        counts = diffs.change_counts(session, shown[0] + shown[1])
    assert list(counts.values()) == [1, 1, 1, 1]
