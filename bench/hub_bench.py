"""The hub benchmark (``make bench``): ModelPlaza against plain tools, in one run on this machine.

It measures, and writes to ``bench/RESULTS.md``:

1. downloading one large file through ``/resolve`` vs Debian's nginx serving the very same blob
   file over loopback, one stream and 8 concurrent streams, both fetched by curl into /dev/null;
2. uploading and committing that file with ``HfApi.upload_file`` over the LFS path
   (``HF_HUB_DISABLE_XET=1``) vs ``cp`` followed by ``sha256sum``;
3. ``list_models(search=...)`` latency with 10,000 repos in the database.

The plaza (``plaza serve``, SQLite), nginx and every file live in a temporary directory that is
removed at the end, failure or not. ``--size-mib 64`` makes a quick run while developing."""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import Downloads, Results, write_results
from servers import (
    CONCURRENT,
    Workspace,
    cpu_seconds,
    download_seconds,
    first_line,
    host,
    require_tool,
    start_nginx,
    start_plaza,
)

MiB = 1 << 20
WORDS = ["llama", "bert", "mistral", "whisper", "vit", "t5", "gpt2", "clip"]
SIZES = ["tiny", "small", "base", "large", "7b"]
SEARCH_TERMS = ["llama", "7b", "bert-base", "whisper-large", "00042", "no-such-model"]
SEARCH_LIMIT = 100
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as file:
        for offset in range(0, size, 16 * MiB):
            file.write(os.urandom(min(16 * MiB, size - offset)))


def stamp(path: Path, label: str) -> None:
    """Make the file's content new, so the plaza cannot skip an object it already holds."""
    with open(path, "r+b") as file:
        file.write(f"{label:<32}".encode()[:32])


def cp_and_sha256sum(path: Path) -> float:
    copy = path.with_name(path.name + ".copy")
    start = time.perf_counter()
    subprocess.run(["cp", str(path), str(copy)], check=True)
    subprocess.run(["sha256sum", str(copy)], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    copy.unlink()
    return elapsed


def bench_upload(api, repo_id: str, path: Path, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds for upload + commit with huggingface_hub and for cp + sha256sum, per round."""
    plaza, reference = [], []
    for i in range(rounds):
        stamp(path, f"round {i} {time.time()}")
        os.sync()  # Each side starts with no dirty pages left over from the other.
        reference.append(cp_and_sha256sum(path))
        os.sync()
        start = time.perf_counter()
        api.upload_file(path_or_fileobj=str(path), path_in_repo=path.name, repo_id=repo_id)
        plaza.append(time.perf_counter() - start)
        say(f"  round {i + 1}: plaza {plaza[-1]:.2f} s, cp + sha256sum {reference[-1]:.2f} s")
    return plaza, reference


def bench_downloads(servers: dict[str, tuple[str, subprocess.Popen]], size: int, rounds: int) -> Downloads:
    """Seconds to fetch the file and the server's CPU seconds, per (server, streams), the servers
    alternating within each round."""
    for url, _ in servers.values():
        download_seconds(url, 1, size)  # Warm-up: connections, page cache, lazy imports.
    downloads = Downloads()
    for i in range(rounds):
        for streams in (1, CONCURRENT):
            for name, (url, process) in servers.items():
                cpu = cpu_seconds(process)
                seconds = download_seconds(url, streams, size)
                downloads.add(name, streams, seconds, cpu_seconds(process) - cpu)
                rate = streams * size / MiB / seconds
                say(f"  round {i + 1}: {name}, {streams} stream(s): {rate:,.0f} MiB/s")
    return downloads


def seed_repos(data_dir: Path, total: int) -> int:
    """Fill the database to ``total`` repos with the domain functions, in a few transactions."""
    from sqlalchemy import func, select

    from modelplaza.auth.accounts import get_user, principal_for
    from modelplaza.config import Settings
    from modelplaza.db.models import Repo
    from modelplaza.hub import commits, repos
    from modelplaza.plaza import Plaza

    plaza = Plaza(Settings(data_dir=data_dir))
    try:
        with plaza.db.read() as session:
            existing = session.scalar(select(func.count()).select_from(Repo))
        names = [f"{WORDS[i % 8]}-{SIZES[i // 8 % 5]}-{i:05d}" for i in range(total - existing)]
        gitattributes = commits.default_gitattributes(plaza.blobs)
        for first in range(0, len(names), 1000):
            with plaza.db.write() as session:
                principal = principal_for(session, get_user(session, "bench"), write=True)
                for name in names[first : first + 1000]:
                    repos.create_repo(
                        session, principal, "model", "bench", name, private=False, gitattributes=gitattributes
                    )
        return existing + len(names)
    finally:
        plaza.close()


def bench_search(api, queries: int) -> tuple[list[float], dict[str, int]]:
    """Seconds per ``list_models(search=...)`` call, cycling through the terms; and each term's
    number of matches."""
    matches = {term: len(list(api.list_models(search=term))) for term in SEARCH_TERMS}
    times = []
    for i in range(queries):
        start = time.perf_counter()
        list(api.list_models(search=SEARCH_TERMS[i % len(SEARCH_TERMS)], limit=SEARCH_LIMIT))
        times.append(time.perf_counter() - start)
    return times, matches


def machine(nginx: str, curl: str) -> dict[str, str]:
    return {
        **host(),
        "nginx": first_line(nginx, "-v").removeprefix("nginx version: "),
        "curl": first_line(curl, "--version").split()[1],
    }


def run(args: argparse.Namespace, ws: Workspace) -> Results:
    size = args.size_mib * MiB
    results = Results(
        size, args.rounds, machine(require_tool("nginx", "nginx-light"), require_tool("curl", "curl"))
    )
    source = ws.root / "model.bin"
    say(f"writing a {args.size_mib} MiB file of random bytes")
    make_file(source, size)
    plaza = start_plaza(ws)
    say(f"plaza serving at {plaza.url} (data in {plaza.data_dir})")
    os.environ.update(HF_HOME=str(ws.root / "hf-home"), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
    os.environ.update(HF_HUB_DISABLE_PROGRESS_BARS="1", HF_ENDPOINT=plaza.url)
    from huggingface_hub import HfApi, constants

    assert constants.HF_HUB_DISABLE_XET, "huggingface_hub was imported before HF_HUB_DISABLE_XET was set"
    api = HfApi(endpoint=plaza.url, token=plaza.token)
    repo_id = api.create_repo("bench/big-model").repo_id
    say(f"upload + commit vs cp + sha256sum, {args.rounds} rounds")
    results.upload, results.cp_sha256sum = bench_upload(api, repo_id, source, args.rounds)
    source.unlink()  # Only the plaza's blob stays: both servers read that very file.
    sha256 = api.get_paths_info(repo_id, [source.name])[0].lfs.sha256
    nginx_url, nginx = start_nginx(ws, plaza.blob_path(sha256))
    say(f"nginx serving the same blob at {nginx_url}")
    plaza_url = f"{plaza.url}/{repo_id}/resolve/main/{source.name}"
    say(f"downloads, 1 and {CONCURRENT} streams, {args.rounds} rounds")
    servers = {"plaza": (plaza_url, plaza.process), "nginx": (nginx_url, nginx)}
    results.downloads = bench_downloads(servers, size, args.rounds)
    say(f"seeding the database to {args.repos} repos")
    start = time.perf_counter()
    results.repos = seed_repos(plaza.data_dir, args.repos)
    results.seed_seconds = time.perf_counter() - start
    say(f"  {results.repos} repos in {results.seed_seconds:.1f} s; {args.queries} searches")
    results.search, results.matches = bench_search(api, args.queries)
    say(f"  p50 {statistics.median(results.search) * 1000:.1f} ms")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the transferred file")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each transfer")
    parser.add_argument("--repos", type=int, default=10_000, help="repos in the database for search")
    parser.add_argument("--queries", type=int, default=200, help="timed list_models calls")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Clean up on kill too.
    with Workspace() as ws:
        results = run(args, ws)
    write_results(args.output, results, " ".join(sys.argv[1:]))
    say(f"wrote {args.output}")
    print(args.output.read_text().split("\n## How")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
