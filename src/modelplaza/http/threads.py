"""Blocking work and the event loop.

Every request is served on one event loop: while a handler blocks it, no other request moves,
and a streamed answer (an event stream, tokens of a completion) stalls for every client. Hence
the rule that ``tests/unit/test_async_rule.py`` checks:

- A handler is a plain ``def`` unless it must await: FastAPI runs plain handlers and plain
  dependencies in its threadpool. A form a plain handler needs arrives through an async
  dependency that only reads it.
- An ``async def`` (a handler that reads its body or streams, a middleware, an exception
  handler) awaits only what the loop does itself, the request body and the response, and hands
  every blocking step to ``await in_thread(fn, *args)``: database sessions, password hashing,
  file and blob store reads and writes, pyarrow, subprocesses, sleeps.
- A write transaction holds the database's write lock (on SQLite, the whole database's), so it
  is opened last and kept short: passwords are hashed, blobs stored and files read and checked
  before it, in a read session when the checks need the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run the blocking ``fn(*args, **kwargs)`` in a worker thread and wait for it without
    holding up the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)
