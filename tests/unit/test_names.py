"""Names of accounts and repos, paths inside repos, branch and tag names."""

import pytest

from modelplaza.errors import InvalidName, InvalidPath
from modelplaza.names import MAX_PATH_LENGTH, check_name, check_path, check_ref_name, split_repo_id


@pytest.mark.parametrize("name", ["a", "bert", "my-model_v2.1", "A9", "x" * 96, "a.b-c_d"])
def test_valid_names_pass(name):
    assert check_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "1-96 letters"),
        ("x" * 97, "1-96 letters"),
        ("has space", "1-96 letters"),
        ("sl/ash", "1-96 letters"),
        ("bad!char", "1-96 letters"),
        ("é", "1-96 letters"),
        ("-leading", "starting and ending"),
        ("trailing-", "starting and ending"),
        (".hidden", "starting and ending"),
        ("double--dash", "'--'"),
        ("double..dot", "'..'"),
        ("model.git", "'.git'"),
        ("model.GIT", "'.git'"),
        ("newline\n", "1-96 letters"),
        ("new\nline", "1-96 letters"),
        ("\nnewline", "1-96 letters"),
    ],
)
def test_invalid_names_are_refused_with_the_reason(name, problem):
    with pytest.raises(InvalidName, match="Invalid repo name") as caught:
        check_name(name, "repo name")
    assert problem in caught.value.message
    assert caught.value.status == 400


def test_non_string_name_is_refused():
    with pytest.raises(InvalidName):
        check_name(None)  # type: ignore[arg-type]


def test_split_repo_id():
    assert split_repo_id("alice/bert") == ("alice", "bert")
    for bad in ("bert", "a/b/c", "/bert", "alice/", "alice/be rt", "alice/bert\n", "alice\n/bert"):
        with pytest.raises(InvalidName):
            split_repo_id(bad)


@pytest.mark.parametrize("path", ["a.txt", "dir/sub/file.bin", ".gitattributes", "a..b", "x/.hidden"])
def test_valid_paths_pass(path):
    assert check_path(path) == path


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "empty"),
        ("..", "'..' segment"),
        ("../etc/passwd", "'..' segment"),
        ("a/../../b", "'..' segment"),
        ("a/./b", "'.' or '..' segment"),
        ("/etc/passwd", "relative"),
        ("a\\b.txt", "'\\'"),
        ("..\\evil", "'\\'"),
        ("a\x00b", "NUL"),
        ("a//b", "empty"),
        ("a/", "empty"),
        (".git/config", "'.git' is reserved"),
        ("sub/.git/HEAD", "'.git' is reserved"),
        ("x" * (MAX_PATH_LENGTH + 1), "longer than"),
    ],
)
def test_invalid_paths_are_refused_with_the_reason(path, problem):
    with pytest.raises(InvalidPath) as caught:
        check_path(path)
    assert problem in caught.value.message
    assert caught.value.status == 400


# Hex names shorter than a commit id stay allowed, as in git (dates, words): a branch or tag
# of that name wins over a short commit id, never over a full one.
@pytest.mark.parametrize(
    "name", ["main", "dev", "feature/x", "v1.0", "release-2", "20240101", "cafe123", "a" * 39, "g" * 40]
)
def test_valid_ref_names_pass(name):
    assert check_ref_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a..b",
        "a b",
        "/lead",
        "trail/",
        "x.lock",
        "a//b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "-dash",
        "refs/heads/x",
        "a@{1}",
        "tab\there",
        "end.",
        "main\n",
        "0123456789abcdef0123456789abcdef01234567",
        "0123456789ABCDEF0123456789ABCDEF01234567",
    ],
)
def test_invalid_ref_names_are_refused(name):
    with pytest.raises(InvalidName, match="Invalid branch or tag name"):
        check_ref_name(name)
