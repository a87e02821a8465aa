"""``plaza serve`` on an address another process holds stops with one line: the server binds
with SO_REUSEPORT, so without the check two plazas would share the port and answer by turns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def test_a_taken_port_is_refused_with_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {**os.environ, "PLAZA_DATA_DIR": str(tmp_path / "plaza")}
        serve = subprocess.run(
            [sys.executable, "-m", "modelplaza.cli.main", "serve", "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert serve.returncode == 1
    assert serve.stderr.strip() == f"Cannot listen on 127.0.0.1:{port}: Address already in use"
    assert "Traceback" not in serve.stdout + serve.stderr
    assert not (tmp_path / "plaza" / "plaza.db").exists()  # refused before anything was set up
