"""The server benchmark: which HTTP server the plaza runs under, against nginx, in one run.

Candidates, each one process serving the same plaza (one data dir, SQLite):

- ``granian``: ``plaza serve`` itself (granian, which offers ``http.response.pathsend``: a whole
  file is sent by the server from its path, no byte passing through Python);
- ``uvicorn``: uvicorn (httptools) with no send extension: every byte streamed through Python;
- ``uvicorn+sendfile``: uvicorn with the ``http.response.zerocopysend`` wrapper of
  ``uvicorn_sendfile.py`` (sendfile(2) in a thread per download, through uvicorn's private
  internals), the path ``plaza serve`` took before; skipped when the installed uvicorn lacks them.

For each, and for nginx serving the very same blob file: downloads of a large file with curl into
/dev/null, 1 and 8 concurrent streams (the servers alternating within each round); then small JSON
requests (``GET /api/health``, and ``GET /api/models/{repo}``, a database read), closed loop with
the peer harness's load generator (wrk engine), req/s and p50/p99. nginx answers a fixed JSON body
for the small requests: the ceiling of what the generator can drive here.

The figures go to a ``## Server comparison`` section of ``bench/RESULTS.md``, the rest kept.
The load generator is ``loadgen.py`` of the bench-peers harness (``--loadgen``); it needs Debian's
wrk. ``--size-mib 64 --seconds 2`` makes a quick run while developing."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn_sendfile
from hub_bench import bench_downloads, make_file, say
from report import Downloads, replace_section
from servers import (
    CONCURRENT,
    PlazaProcess,
    Workspace,
    free_port,
    host,
    require_tool,
    start_nginx,
    start_plaza,
    wait_until_up,
)

MiB = 1 << 20
RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Server comparison"
DOWNLOAD_GOAL = 0.9
REPO = "bench/big-model"
CANDIDATES = ("granian", "uvicorn", "uvicorn+sendfile")  # granian: the ``plaza serve`` started first
REQUESTS = {"health": "/api/health", "model info": f"/api/models/{REPO}"}
LOADGEN = Path(os.environ.get("BENCH_PEERS", "/work/shared/bench-peers")) / "loadgen.py"


def plaza_app():
    """The plaza's ASGI app over the data dir in the environment."""
    from modelplaza.app import create_app
    from modelplaza.config import Settings
    from modelplaza.plaza import Plaza

    return create_app(Plaza(Settings(embedded_worker=False)))


def serve(kind: str, port: int) -> None:
    """Run one uvicorn candidate in this process, until it is terminated."""
    if kind == "uvicorn":
        import uvicorn

        uvicorn.run(
            plaza_app(), host="127.0.0.1", port=port, loop="asyncio", http="httptools", access_log=False
        )
    else:
        import uvicorn_sendfile

        uvicorn_sendfile.serve(plaza_app(), port)


def start_candidate(ws: Workspace, kind: str, plaza: PlazaProcess) -> tuple[str, subprocess.Popen]:
    env = {**os.environ, "PLAZA_DATA_DIR": str(plaza.data_dir), "PYTHONPATH": _pythonpath()}
    port = free_port()
    log = f"{kind}.log"
    process = ws.start([sys.executable, __file__, "--serve", kind, str(port)], log, env)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(f"{url}/api/health", process, ws.root / log)
    return url, process


def _pythonpath() -> str:
    return os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))


@dataclass
class Load:
    req_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    loadgen_cores: float


@dataclass
class Results:
    size: int
    rounds: int
    seconds: float
    loads: list[float] = field(default_factory=list)
    downloads: Downloads = field(default_factory=Downloads)
    requests: dict[tuple[str, str], Load] = field(default_factory=dict)


def small_requests(url: str, seconds: float, label: str) -> Load:
    """Closed-loop load on ``url``: 32 keep-alive connections for ``seconds`` (after 1 s of warm-up)."""
    command = [sys.executable, str(LOADGEN), url, "-c", "32", "-d", str(seconds), "--warmup", "1"]
    done = subprocess.run([*command, "--engine", "wrk", "--label", label], capture_output=True, text=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"loadgen {url} failed: {done.stdout}{done.stderr}")
    r = json.loads(line.removeprefix("RESULT "))
    say(f"  {label}: {r['req_per_s']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms")
    return Load(r["req_per_s"], r["p50_ms"], r["p99_ms"], r["errors"], r["loadgen_cpu_cores"])


def upload(plaza: PlazaProcess, source: Path) -> str:
    """Upload ``source`` over LFS; its blob's sha256."""
    os.environ.update(
        HF_HOME=str(source.parent / "hf-home"), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1"
    )
    os.environ.update(HF_HUB_DISABLE_PROGRESS_BARS="1")
    from huggingface_hub import HfApi

    api = HfApi(endpoint=plaza.url, token=plaza.token)
    api.create_repo(REPO)
    api.upload_file(path_or_fileobj=str(source), path_in_repo=source.name, repo_id=REPO)
    return api.get_paths_info(REPO, [source.name])[0].lfs.sha256


def run(args: argparse.Namespace, ws: Workspace) -> Results:
    if LOADGEN.exists():
        require_tool("wrk", "wrk")
    else:
        say(f"no load generator at {LOADGEN} (set BENCH_PEERS to the bench-peers folder): downloads only")
    results = Results(args.size_mib * MiB, args.rounds, args.seconds, [os.getloadavg()[0]])
    source = ws.root / "model.bin"
    say(f"writing a {args.size_mib} MiB file of random bytes")
    make_file(source, results.size)
    plaza = start_plaza(ws)
    sha256 = upload(plaza, source)
    source.unlink()
    nginx_url, nginx = start_nginx(ws, plaza.blob_path(sha256))
    kinds = [kind for kind in CANDIDATES[1:] if kind != "uvicorn+sendfile" or uvicorn_sendfile.available()]
    bases = {
        "granian": (plaza.url, plaza.process),
        **{kind: start_candidate(ws, kind, plaza) for kind in kinds},
    }
    say("servers up: " + ", ".join(f"{kind} {url}" for kind, (url, _) in bases.items()))
    servers = {kind: (f"{url}/{REPO}/resolve/main/{source.name}", p) for kind, (url, p) in bases.items()}
    say(f"downloads, 1 and {CONCURRENT} streams, {args.rounds} rounds")
    results.downloads = bench_downloads({**servers, "nginx": (nginx_url, nginx)}, results.size, args.rounds)
    results.loads.append(os.getloadavg()[0])
    if LOADGEN.exists():
        results.requests = measure_small_requests(bases, nginx_url, args.seconds)
    results.loads.append(os.getloadavg()[0])
    return results


def measure_small_requests(
    bases: dict[str, tuple[str, subprocess.Popen]], nginx_url: str, seconds: float
) -> dict[tuple[str, str], Load]:
    say(f"small JSON requests, {seconds:g} s each")
    nginx_json = nginx_url.rsplit("/", 1)[0] + "/health.json"
    requests = {("health", "nginx"): small_requests(nginx_json, seconds, "nginx fixed JSON")}
    for kind, (url, _) in bases.items():
        for what, path in REQUESTS.items():
            requests[what, kind] = small_requests(url + path, seconds, f"{kind} {what}")
    return requests


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def section(r: Results, arguments: str) -> str:
    m = host()
    command = " ".join(["python bench/server_bench.py", *([arguments] if arguments else [])])
    size = f"{r.size / (1 << 30):g} GiB" if r.size >= 1 << 30 else f"{r.size // MiB} MiB"
    lines = [
        SECTION,
        "",
        f"Run on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC with `{command}`.",
        f"Machine: {m['cpu']}, nproc {m['nproc']}, {m['ram']} RAM, {m['os']}; Python {m['python']}.",
        "Load average (1 minute) at the start, after the downloads and at the end: "
        + ", ".join(f"{load:.1f}" for load in r.loads)
        + " (the machine's 2 cores are shared with other work).",
        "",
        "`granian`: `plaza serve` (granian, whole files by `http.response.pathsend`); `uvicorn`: the same"
        " app under uvicorn, streamed through Python; `uvicorn+sendfile`: uvicorn with the"
        " `http.response.zerocopysend` wrapper of `bench/uvicorn_sendfile.py` (the path before).",
        "",
        f"Downloads of a {size} file with curl (median of {r.rounds} rounds, the servers alternating;"
        f" ratio = server / nginx in the same run; goal ≥ {DOWNLOAD_GOAL}×):",
        "",
        *_download_rows(r),
    ]
    if r.requests:
        lines += [
            "",
            f"Small JSON requests: 32 keep-alive connections, {r.seconds:g} s each after 1 s of warm-up,"
            " the bench-peers `loadgen.py` driving with wrk (one thread); nginx answers a fixed JSON body"
            " (the generator's ceiling here):",
            "",
            *_request_rows(r),
        ]
    lines += ["", "Download rounds (seconds until every stream finished):", ""]
    lines += [
        f"- {kind}, {streams} stream(s): " + ", ".join(f"{s:.2f}" for s in seconds) + " s"
        for (kind, streams), seconds in r.downloads.seconds.items()
    ]
    return "\n".join(lines) + "\n"


def _download_rows(r: Results) -> list[str]:
    d = r.downloads
    rows = [
        _row(
            "server", "1 stream", "ratio", f"{CONCURRENT} streams", "ratio", f"CPU s/GiB (1 / {CONCURRENT})"
        ),
        _row(*["---"] * 6),
    ]
    nginx = {streams: d.rate("nginx", streams, r.size) for streams in (1, CONCURRENT)}
    for kind in (*(kind for kind in CANDIDATES if (kind, 1) in d.seconds), "nginx"):
        cells = [kind]
        for streams in (1, CONCURRENT):
            rate = d.rate(kind, streams, r.size)
            cells += [f"{rate:,.0f} MiB/s", f"{rate / nginx[streams]:.2f}×"]
        cpu = " / ".join(f"{d.cpu_per_gib(kind, streams, r.size):.2f}" for streams in (1, CONCURRENT))
        rows.append(_row(*cells, cpu))
    return rows


def _request_rows(r: Results) -> list[str]:
    rows = [_row("server", "request", "req/s", "p50", "p99", "errors", "generator CPU"), _row(*["---"] * 7)]
    for (what, kind), load in r.requests.items():
        request = "fixed JSON" if kind == "nginx" else f"`GET {REQUESTS[what]}`"
        rows.append(
            _row(
                kind, request, f"{load.req_per_s:,.0f}",
                f"{load.p50_ms:.2f} ms", f"{load.p99_ms:.2f} ms", str(load.errors), f"{load.loadgen_cores:.2f} cores",
            )
        )  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the downloaded file")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions of each download")
    parser.add_argument("--seconds", type=float, default=4, help="duration of each small-request load")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--serve", nargs=2, metavar=("KIND", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Clean up on kill too.
    with Workspace() as ws:
        results = run(args, ws)
    replace_section(args.output, SECTION, section(results, " ".join(sys.argv[1:])), before="## History")
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
