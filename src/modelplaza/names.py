"""Validation of account names, repo names and file paths in repos."""

from __future__ import annotations

import re

from modelplaza.errors import InvalidName, InvalidPath

# Matched whole (``fullmatch``): with ``match`` and ``$``, a name ending in a newline would pass.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
# A full commit id: a branch or tag of that shape would stand in the way of the commit it names.
_COMMIT_ID = re.compile(r"[0-9a-fA-F]{40}")
MAX_PATH_LENGTH = 1024


def check_name(name: str, what: str = "name") -> str:
    """Names: 1-96 letters, digits, '-', '_', '.'; they start and end with a letter or digit
    and contain neither '--' nor '..'. Two names that differ only in case are the same
    account or repo (the accounts and repos modules see to it)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or "--" in name or ".." in name:
        raise InvalidName(
            f"Invalid {what} {name!r}: use 1-96 letters, digits, '-', '_' or '.', starting and "
            "ending with a letter or digit, without '--' or '..'"
        )
    if name.lower().endswith(".git"):
        raise InvalidName(f"Invalid {what} {name!r}: it cannot end with '.git'")
    return name


def split_repo_id(repo_id: str) -> tuple[str, str]:
    parts = repo_id.split("/")
    if len(parts) != 2:
        raise InvalidName(f"Invalid repo id {repo_id!r}: expected 'namespace/name'")
    return check_name(parts[0], "namespace"), check_name(parts[1], "repo name")


def check_path(path: str) -> str:
    """A file path inside a repo: relative, forward slashes, no empty, '.' or '..' segments."""
    if not path:
        raise InvalidPath("Invalid path: it is empty")
    if "\x00" in path:
        raise InvalidPath(f"Invalid path {path!r}: it contains a NUL character")
    if "\\" in path:
        raise InvalidPath(f"Invalid path {path!r}: use '/' rather than '\\'")
    if path.startswith("/"):
        raise InvalidPath(f"Invalid path {path!r}: it must be relative to the repo root")
    if len(path.encode()) > MAX_PATH_LENGTH:
        raise InvalidPath(f"Invalid path: longer than {MAX_PATH_LENGTH} bytes")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidPath(f"Invalid path {path!r}: empty, '.' or '..' segment")
        if segment == ".git":
            raise InvalidPath(f"Invalid path {path!r}: '.git' is reserved")
    return path


def check_ref_name(name: str) -> str:
    """A branch or tag name, roughly git's rules, and never 40 hex digits: a revision of that
    shape always names the commit. Shorter hex names (``20240101``, ``cafe123``) are allowed, as
    git allows them; a short commit id is only looked for when no branch or tag has the name."""
    bad = (
        not name
        or len(name) > 255
        or name.startswith(("/", "-", "refs/"))
        or name.endswith(("/", ".", ".lock"))
        or ".." in name
        or "//" in name
        or "@{" in name
        or any(c in name for c in " ~^:?*[\\\x00\x7f")
        or any(ord(c) < 32 for c in name)
    )
    if bad:
        raise InvalidName(f"Invalid branch or tag name {name!r}")
    if _COMMIT_ID.fullmatch(name):
        raise InvalidName(f"Invalid branch or tag name {name!r}: it looks like a commit id")
    return name
