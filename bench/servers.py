"""The benchmark's world: a temporary directory, the plaza and nginx running in it, and curl."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

CONCURRENT = 8
NGINX_CONF = """\
worker_processes auto;
user root;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    default_type application/octet-stream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        # A fixed small answer: the most small requests a load generator can drive here.
        location = /health.json {{ default_type application/json; return 200 '{{"status": "ok"}}'; }}
    }}
}}
"""


class Workspace:
    """A temporary directory and the processes started in it; both gone on exit, whatever happens."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="plaza-bench-"))
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in reversed(self.processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, command: list[str], log_name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        with open(self.root / log_name, "wb") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited early:\n{log.read_text()}")
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=1).close()
            return
        except urllib.error.HTTPError:
            return  # An error page is an answer too.
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within a minute:\n{log.read_text()}")


def require_tool(command: str, debian_package: str) -> str:
    """The tool's path, installed from Debian when missing and we may."""
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() != 0:
        sys.exit(f"{command} is missing: apt-get install {debian_package}")
    apt = ["apt-get", "install", "-y", "-q", debian_package]
    if subprocess.run(apt, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(apt, check=True, stdout=subprocess.DEVNULL)
    return require_tool(command, debian_package)


def first_line(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    return (done.stdout or done.stderr).splitlines()[0]


def host() -> dict[str, str]:
    """The machine a benchmark runs on: CPU, cores, RAM, kernel, Python."""
    meminfo = Path("/proc/meminfo").read_text().split()
    ram_gib = int(meminfo[meminfo.index("MemTotal:") + 1]) / (1 << 20)
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    return {
        "cpu": cpu,
        "nproc": first_line("nproc"),
        "ram": f"{ram_gib:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU time used so far by a process and its children (nginx's workers)."""
    pids = [
        process.pid,
        *map(int, Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()),
    ]
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class PlazaProcess:
    url: str
    data_dir: Path
    token: str
    process: subprocess.Popen

    def blob_path(self, sha256: str) -> Path:
        """Where the plaza keeps the blob, for nginx to serve the same file: only a store that
        delivers local files has such a place."""
        from modelplaza.config import Settings
        from modelplaza.storage import LocalFile
        from modelplaza.storage.factory import open_store

        delivery = open_store(Settings(data_dir=self.data_dir), "blobs").deliver(sha256)
        if not isinstance(delivery, LocalFile):
            raise SystemExit("the nginx comparison needs a store that keeps blobs in local files")
        return delivery.path


def start_plaza(ws: Workspace) -> PlazaProcess:
    """``plaza serve`` on a free port with a fresh data dir (SQLite), and a write token."""
    data_dir = ws.root / "plaza"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAZA_")}
    env["PLAZA_DATA_DIR"] = str(data_dir)
    plaza = [sys.executable, "-m", "modelplaza.cli.main"]
    admin = {"env": env, "check": True, "capture_output": True, "text": True}
    url = f"http://127.0.0.1:{free_port()}"
    process = ws.start(
        [*plaza, "serve", "--host", "127.0.0.1", "--port", url.rsplit(":", 1)[1]], "plaza.log", env
    )
    wait_until_up(f"{url}/api/health", process, ws.root / "plaza.log")
    # Once serve has made the plaza: admin commands change a plaza, never create one.
    subprocess.run(
        [*plaza, "admin", "create-user", "bench", "--password-stdin"], input="bench-password\n", **admin
    )
    token = subprocess.run([*plaza, "admin", "create-token", "bench", "--write"], **admin).stdout.strip()
    return PlazaProcess(url, data_dir, token, process)


def start_nginx(ws: Workspace, file: Path) -> tuple[str, subprocess.Popen]:
    """nginx with its own config, serving ``file``'s folder; the URL of ``file``, the master process."""
    nginx = require_tool("nginx", "nginx-light")
    conf_dir = ws.root / "nginx"
    conf_dir.mkdir()
    port = free_port()
    conf = NGINX_CONF.format(dir=conf_dir, port=port, root=file.parent)
    (conf_dir / "nginx.conf").write_text(conf)
    command = [
        nginx,
        "-p",
        str(conf_dir),
        "-e",
        str(conf_dir / "error.log"),
        "-c",
        str(conf_dir / "nginx.conf"),
    ]
    process = ws.start([*command, "-g", "daemon off;"], "nginx.log")
    url = f"http://127.0.0.1:{port}/{file.name}"
    wait_until_up(url, process, ws.root / "nginx.log")
    return url, process


def download_seconds(url: str, streams: int, size: int) -> float:
    """Wall-clock seconds for ``streams`` curl processes fetching ``url`` at once into /dev/null."""
    curl = [require_tool("curl", "curl"), "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}", url]
    start = time.perf_counter()
    running = [subprocess.Popen(curl, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(streams)]
    outputs = [process.communicate() for process in running]
    elapsed = time.perf_counter() - start
    for process, (out, err) in zip(running, outputs, strict=True):
        if process.returncode != 0 or int(out or 0) != size:
            raise RuntimeError(f"curl {url}: exit {process.returncode}, {out!r} bytes: {err.decode()}")
    return elapsed
