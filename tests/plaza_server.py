"""A real plaza server on a free port, on SQLite or PostgreSQL (``PLAZA_TEST_DATABASE``), for
the integration and browser suites.

The Hugging Face clients read ``HF_ENDPOINT`` when first imported, so it is set here: a conftest
imports this module before any test module imports them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PORT = free_port()
ENDPOINT = f"http://127.0.0.1:{PORT}"
WORK_DIR = Path(tempfile.mkdtemp(prefix="plaza-test-"))
BACKEND = os.environ.get("PLAZA_TEST_DATABASE", "sqlite")
MAX_FILE_SIZE = 96 * 1024 * 1024
os.environ.update(
    HF_ENDPOINT=ENDPOINT,
    HF_HOME=str(WORK_DIR / "hf-home"),
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_IMPLICIT_TOKEN="1",
    HF_HUB_ETAG_TIMEOUT="30",
    HF_HUB_DOWNLOAD_TIMEOUT="60",
    TOKENIZERS_PARALLELISM="false",
)
os.environ.pop("HF_TOKEN", None)
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class PlazaServer:
    url: str
    data_dir: Path
    env: dict[str, str]
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)
    pid: int = 0  # of the ``plaza serve`` process; it serves from a process of its own below it

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "modelplaza.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def token(self, name: str, *, write: bool = True) -> str:
        return self.cli("admin", "create-token", name, *(["--write"] if write else [])).stdout.strip()


def _database_url(data_dir: Path) -> tuple[str, str | None]:
    if BACKEND == "sqlite":
        return f"sqlite:///{data_dir / 'plaza.db'}", None
    if BACKEND == "postgres":
        import psycopg

        name = f"plaza_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name
    raise RuntimeError(f"PLAZA_TEST_DATABASE must be sqlite or postgres, not {BACKEND!r}")


def _drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_up(server: PlazaServer, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plaza serve exited early:\n{server.log.read_text()}")
        try:
            if httpx.get(f"{server.url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"plaza serve did not come up:\n{server.log.read_text()}")


@contextmanager
def running_plaza(name: str, port: int, command: str = "serve", **settings: str) -> Iterator[PlazaServer]:
    """``plaza serve`` (or another serving command: ``demo``) on its own data dir and database
    (dropped afterwards), with extra ``PLAZA_*`` settings; accounts are the caller's to create
    with ``server.cli``."""
    data_dir = WORK_DIR / name
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url, pg_name = _database_url(data_dir)
    env = {
        **os.environ,
        "PLAZA_DATA_DIR": str(data_dir),
        "PLAZA_DATABASE_URL": database_url,
        "PLAZA_MAX_FILE_SIZE": str(MAX_FILE_SIZE),
        **settings,
    }
    server = PlazaServer(f"http://127.0.0.1:{port}", data_dir, env, log=WORK_DIR / f"{name}.log")
    with open(server.log, "w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "modelplaza.cli.main", command, "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server.pid = process.pid
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=30)
        if pg_name:
            _drop_database(pg_name)
