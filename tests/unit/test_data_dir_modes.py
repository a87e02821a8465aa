"""A plaza's data directory and database are its owner's alone, also when an older plaza left
them readable by every local user (the server itself is tested in
tests/integration/test_web_security.py)."""

from __future__ import annotations

import os
import stat

from sqlalchemy import text

from modelplaza.config import Settings
from modelplaza.plaza import Plaza


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_world_readable_data_dir_and_database_are_narrowed(tmp_path):
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("plaza.db", "plaza.db-wal", "plaza.db-shm"):
        (data_dir / name).touch()
        (data_dir / name).chmod(0o644)
    plaza = Plaza(Settings(data_dir=data_dir)).migrate()
    try:
        assert _mode(data_dir) == 0o700
        assert {name: _mode(data_dir / name) for name in ("plaza.db", "plaza.db-wal", "plaza.db-shm")} == {
            "plaza.db": 0o600,
            "plaza.db-wal": 0o600,
            "plaza.db-shm": 0o600,
        }
    finally:
        plaza.close()


def test_a_new_database_is_created_for_its_owner_alone(tmp_path):
    plaza = Plaza(Settings(data_dir=tmp_path / "new" / "plaza")).migrate()
    try:
        with plaza.db.write() as session:  # SQLite makes its -wal and -shm files now
            session.execute(text("select 1"))
        found = {path.name: _mode(path) for path in (tmp_path / "new" / "plaza").iterdir() if path.is_file()}
        assert "plaza.db" in found and all(mode & 0o077 == 0 for mode in found.values()), found
        assert _mode(tmp_path / "new" / "plaza") == 0o700
    finally:
        plaza.close()
