"""The async rule of modelplaza/http/threads.py, checked on the source: no blocking call inside
an ``async def`` (a handler, a middleware, an exception handler, a stream) unless it is handed
to a thread (``await in_thread(fn, ...)``, or a lambda given to it).

A call counts as blocking when it goes through the database (``db``, a ``session``, or any call
given a session), the blob stores or the file contents, when it is one of the known blocking
functions below (password hashing, files, sleeps, subprocesses, pyarrow, the helpers that look
up the logged-in user or render a page), or when it calls a function of the same module that
does any of these."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import modelplaza

SRC = Path(modelplaza.__file__).parent
THREAD_HELPERS = {"in_thread", "run_in_threadpool", "run_sync", "to_thread", "run_in_executor"}
# Objects whose every method blocks: the database, its sessions, the stores and their contents.
BLOCKING_OBJECTS = {"db", "session", "blobs", "xorbs", "contents", "subprocess", "shutil", "pq", "pyarrow"}
# Functions and methods that block, by their last name.
BLOCKING_NAMES = {
    # passwords (argon2 takes a while on purpose)
    "hash_password",
    "verify_password",
    "check_password",
    "new_password",
    "PasswordHasher",
    # files and blobs
    "open",
    "read_bytes",
    "read_text",
    "write_bytes",
    "write_text",
    "fsync",
    "put_bytes",
    "read_range",
    "writer",
    "keyed_writer",
    # pyarrow readers
    "read_table",
    "read_schema",
    "ParquetFile",
    # who is asking, and pages: they read the session cookie's user from the database
    "get_principal",
    "cookie_principal",
    "page_principal",
    "signed_in",
    "login_first",
    "log_in",
    "log_out",
    "render",
    "error_page",
}
BLOCKING_DOTTED = {"time.sleep", "os.kill", "os.unlink", "os.remove", "os.replace"}


def _dotted(node: ast.expr) -> str:
    """``plaza.db.read`` for that attribute chain; a call inside it shows as ``name()``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


def _last_name(call: ast.Call) -> str:
    return _dotted(call.func).rsplit(".", 1)[-1]


def _is_thread_helper(call: ast.Call) -> bool:
    return _last_name(call) in THREAD_HELPERS


def _blocks(call: ast.Call, blocking_here: set[str]) -> bool:
    dotted = _dotted(call.func)
    receivers = {part.removesuffix("()") for part in dotted.split(".")[:-1]}
    passes_session = any(isinstance(a, ast.Name) and a.id == "session" for a in call.args)
    return (
        bool(receivers & BLOCKING_OBJECTS)
        or _last_name(call) in BLOCKING_NAMES
        or dotted in BLOCKING_DOTTED
        or dotted in blocking_here
        or passes_session
    )


def _calls_on_loop(body: ast.AST) -> Iterator[ast.Call]:
    """The calls that run on the event loop when ``body`` (an async function) runs: not those
    in nested async functions (checked on their own), nor in a nested ``def`` or a lambda given
    to a thread helper."""
    handed_off = {
        arg.id
        for node in ast.walk(body)
        if isinstance(node, ast.Call) and _is_thread_helper(node)
        for arg in node.args
        if isinstance(arg, ast.Name)
    }

    def visit(node: ast.AST) -> Iterator[ast.Call]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AsyncFunctionDef):
                continue
            if isinstance(child, ast.FunctionDef) and child.name in handed_off:
                continue
            if isinstance(child, ast.Lambda) and isinstance(node, ast.Call) and _is_thread_helper(node):
                continue
            if isinstance(child, ast.Call):
                yield child
            yield from visit(child)

    return visit(body)


def _blocking_functions(tree: ast.Module) -> set[str]:
    """This module's plain functions that block, directly or through one another."""
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    blocking: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, function in functions.items():
            calls = (node for node in ast.walk(function) if isinstance(node, ast.Call))
            if name not in blocking and any(_blocks(call, blocking) for call in calls):
                blocking.add(name)
                changed = True
    return blocking


def _violations(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(), str(path))
    blocking_here = _blocking_functions(tree)
    for function in ast.walk(tree):
        if not isinstance(function, ast.AsyncFunctionDef):
            continue
        for call in _calls_on_loop(function):
            if _blocks(call, blocking_here):
                where = path.relative_to(SRC.parent)
                yield f"{where}:{call.lineno} in async {function.name}(): {_dotted(call.func)}(...)"


def test_no_blocking_call_inside_async_functions() -> None:
    found = [problem for path in sorted(SRC.rglob("*.py")) for problem in _violations(path)]
    assert not found, (
        "Blocking calls on the event loop: make the handler a plain def, or hand the step to "
        "`await in_thread(fn, ...)` (modelplaza/http/threads.py):\n  " + "\n  ".join(found)
    )


def _check(source: str) -> list[str]:
    tree = ast.parse(source)
    blocking_here = _blocking_functions(tree)
    return [
        _dotted(call.func)
        for function in ast.walk(tree)
        if isinstance(function, ast.AsyncFunctionDef)
        for call in _calls_on_loop(function)
        if _blocks(call, blocking_here)
    ]


def test_the_check_sees_blocking_calls_and_lets_handed_off_ones_pass() -> None:
    source = """
def _lookup(request):
    with get_plaza(request).db.read() as session:
        return find(session, 1)

async def handler(request):
    form = await request.form()
    hash_password(form["password"])
    _lookup(request)
    time.sleep(1)

async def fine(request):
    def step():
        with plaza.db.write() as session:
            session.add(1)

    await in_thread(step)
    await in_thread(_lookup, request)
    await in_thread(lambda: plaza.blobs.put_bytes(b""))
    await asyncio.sleep(1)
"""
    assert _check(source) == ["hash_password", "_lookup", "time.sleep"]
