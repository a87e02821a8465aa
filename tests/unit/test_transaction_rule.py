"""The transaction rule, checked on the source: no file or blob I/O inside a write
transaction (``with ....db.write() as session:``). Files are stored, read back and parsed
before the write, which then only inserts rows, so the write lock is held for as short a
time as the database needs.

Inside the block, a call counts as I/O when it goes through the blob stores or the file
contents (``blobs``, ``xorbs``, ``contents``), when it hands one of them to a function (which
would do the I/O for it), when it is a known file operation, or when it calls a function of the
same module that does any of these. Calls are seen lexically: a domain function that read
files on its own, given none of these, is for review to catch."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.unit.test_async_rule import SRC, _dotted

STORES = {"blobs", "xorbs", "contents"}
FILE_CALLS = {
    "open",
    "read_bytes",
    "read_text",
    "write_bytes",
    "write_text",
    "put_bytes",
    "read_range",
    "writer",
    "keyed_writer",
    "fsync",
}
FILE_DOTTED = {"os.unlink", "os.remove", "os.replace", "shutil.copyfileobj", "shutil.rmtree"}


def _is_store(node: ast.expr) -> bool:
    return isinstance(node, ast.Name | ast.Attribute) and _dotted(node).rsplit(".", 1)[-1] in STORES


def _does_io(call: ast.Call, io_here: set[str]) -> bool:
    dotted = _dotted(call.func)
    receivers = {part.removesuffix("()") for part in dotted.split(".")[:-1]}
    arguments = [*call.args, *(k.value for k in call.keywords)]
    return (
        bool(receivers & STORES)
        or dotted.rsplit(".", 1)[-1] in FILE_CALLS
        or dotted in FILE_DOTTED
        or dotted in io_here
        or any(_is_store(a) for a in arguments)
    )


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """The calls in ``node``, not those in functions or lambdas defined there (they run later)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.Call):
            yield child
        yield from _calls(child)


def _io_functions(tree: ast.Module) -> set[str]:
    """This module's plain functions that do file or blob I/O, directly or through one another."""
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    doing_io: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, function in functions.items():
            if name not in doing_io and any(_does_io(call, doing_io) for call in _calls(function)):
                doing_io.add(name)
                changed = True
    return doing_io


def _is_write(item: ast.withitem) -> bool:
    call = item.context_expr
    return isinstance(call, ast.Call) and _dotted(call.func).split(".")[-2:] == ["db", "write"]


def _io_in_writes(tree: ast.Module) -> Iterator[ast.Call]:
    io_here = _io_functions(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(_is_write(item) for item in node.items):
            for statement in node.body:
                yield from (call for call in _calls(statement) if _does_io(call, io_here))


def _violations(path: Path) -> Iterator[str]:
    for call in _io_in_writes(ast.parse(path.read_text(), str(path))):
        yield f"{path.relative_to(SRC.parent)}:{call.lineno}: {_dotted(call.func)}(...)"


def test_no_file_or_blob_io_inside_a_write_transaction() -> None:
    found = [problem for path in sorted(SRC.rglob("*.py")) for problem in _violations(path)]
    assert not found, (
        "File or blob I/O inside `with ....db.write()`: store, read and parse before the write, "
        "then pass the results in:\n  " + "\n  ".join(found)
    )


def test_the_check_sees_io_in_a_write_and_lets_the_rest_pass() -> None:
    source = """
def _store(plaza, data):
    return plaza.blobs.put_bytes(data)

def handler(plaza, data):
    entry = commits.regular_file(plaza.blobs, data)
    text = plaza.contents.read_bytes(session, sha)
    with plaza.db.write() as session:
        commits.create_commit(session, plaza.contents, repo, "main", [entry])
        _store(plaza, data)
        Path("token").write_text(token)
        repos.create_repo(session, blobs=plaza.blobs)
        commits.create_commit(session, repo, "main", [entry], card=card)

    def later():
        plaza.blobs.put_bytes(data)

    with plaza.db.read() as session:
        plaza.contents.read_bytes(session, sha)
"""
    found = [_dotted(call.func) for call in _io_in_writes(ast.parse(source))]
    assert found == ["commits.create_commit", "_store", "Path().write_text", "repos.create_repo"]
