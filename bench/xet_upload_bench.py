"""The Xet upload benchmark: one large file uploaded through Xet, through LFS, and copied by hand.

In each round, a new file of random bytes (so that no chunk of it is known to the plaza or to the
client's caches) is timed three ways, one after the other:

1. the limit: ``cp`` of the file, then ``sha256sum`` of the copy;
2. ``HfApi.upload_file`` through Xet: the default client, with ``hf_xet`` installed;
3. ``HfApi.upload_file`` through LFS (``HF_HUB_DISABLE_XET=1``), of the same file with its first
   bytes changed, as the plaza would otherwise find its sha256 known already.

The uploads run in child processes, one per upload, because huggingface_hub reads
``HF_HUB_DISABLE_XET`` when imported; each child times ``upload_file`` alone. An untimed small
upload through each path comes first. Each path's median round, and the median of its per-round
ratios to the limit, go to a ``## Xet upload`` section of ``bench/RESULTS.md``, the rest of that
file kept. The plaza (``plaza serve``, SQLite) and every file live in a temporary directory
removed at the end. ``--size-mib 64`` makes a quick run while developing."""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from hub_bench import cp_and_sha256sum, make_file, stamp
from report import UPLOAD_GOAL, replace_section
from servers import PlazaProcess, Workspace, host, start_plaza

MiB = 1 << 20
SECTION = "\n## Xet upload"
RESULTS = Path(__file__).with_name("RESULTS.md")
PATHS = ("limit", "xet", "lfs")
WARM_UP = 16 * MiB  # an untimed upload through each path first
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def upload_child(url: str, token: str, repo_id: str, path: str) -> None:
    """In the child: upload the file and print the seconds ``upload_file`` took."""
    from huggingface_hub import HfApi, constants

    api = HfApi(endpoint=url, token=token)
    start = time.perf_counter()
    api.upload_file(path_or_fileobj=path, path_in_repo=Path(path).name, repo_id=repo_id)
    print(time.perf_counter() - start)
    print("xet disabled" if constants.HF_HUB_DISABLE_XET else "xet enabled")


def upload_seconds(plaza: PlazaProcess, ws: Workspace, repo_id: str, path: Path, xet: bool) -> float:
    """Seconds ``upload_file`` took in a child process, through Xet or through LFS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(ws.root / "hf-home"), HF_HUB_DISABLE_TELEMETRY="1")
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    command = [sys.executable, __file__, "--child", plaza.url, plaza.token, repo_id, str(path)]
    out = subprocess.run(command, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    seconds, mode = out.splitlines()[-2:]
    if mode != ("xet enabled" if xet else "xet disabled"):
        raise RuntimeError(f"the child uploaded with {mode}")
    return float(seconds)


def bench(ws: Workspace, size: int, rounds: int) -> tuple[dict[str, list[float]], list[float]]:
    """Seconds per round for the limit and each upload path; the load average as each began."""
    from huggingface_hub import HfApi

    plaza = start_plaza(ws)
    say(f"plaza at {plaza.url}")
    repos = {"xet": "bench/xet-upload", "lfs": "bench/lfs-upload"}
    for repo_id in repos.values():
        HfApi(endpoint=plaza.url, token=plaza.token).create_repo(repo_id)
    source = ws.root / "model.bin"
    make_file(source, WARM_UP)
    for path, repo_id in repos.items():  # First uploads set up caches, connections, lazy imports.
        upload_seconds(plaza, ws, repo_id, source, xet=path == "xet")
    seconds: dict[str, list[float]] = {path: [] for path in PATHS}
    loads = []
    for i in range(rounds):
        loads.append(os.getloadavg()[0])
        make_file(source, size)  # New random bytes: nothing to deduplicate against.
        os.sync()  # Each side starts with no dirty pages left over from the one before.
        seconds["limit"].append(cp_and_sha256sum(source))
        os.sync()
        seconds["xet"].append(upload_seconds(plaza, ws, repos["xet"], source, xet=True))
        stamp(source, f"lfs round {i} {time.time()}")
        os.sync()
        seconds["lfs"].append(upload_seconds(plaza, ws, repos["lfs"], source, xet=False))
        say(
            f"  round {i + 1}: " + ", ".join(f"{path} {values[-1]:.2f} s" for path, values in seconds.items())
        )
    return seconds, loads


def _size(size: int) -> str:
    return f"{size / (1 << 30):g} GiB" if size >= 1 << 30 else f"{size / MiB:g} MiB"


def section(seconds: dict[str, list[float]], loads: list[float], size: int, arguments: str) -> str:
    median = {path: statistics.median(values) for path, values in seconds.items()}
    # Each round's ratio compares times taken seconds apart: the machine's load drifts more.
    ratios = {
        path: [a / b for a, b in zip(seconds["limit"], values, strict=True)]
        for path, values in seconds.items()
    }
    ratio = {path: statistics.median(values) for path, values in ratios.items()}
    labels = {
        "limit": "`cp` + `sha256sum` (the limit)",
        "xet": "`HfApi.upload_file`, Xet (hf_xet)",
        "lfs": "`HfApi.upload_file`, LFS (`HF_HUB_DISABLE_XET=1`)",
    }
    rows = [
        f"| {labels[path]} | {median[path]:.2f} s | {size / MiB / median[path]:,.0f} MiB/s "
        f"| {ratio[path]:.2f}× | {', '.join(f'{v:.2f}' for v in seconds[path])} s |"
        for path in PATHS
    ]
    verdict = "met" if ratio["xet"] >= UPLOAD_GOAL else "not met"
    per_round = ", ".join(f"{r:.2f}×" for r in ratios["xet"])
    m = host()
    command = " ".join(["python bench/xet_upload_bench.py", *([arguments] if arguments else [])])
    return f"""{SECTION}

Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`.
Machine: {m["cpu"]}, nproc {m["nproc"]}, {m["ram"]} RAM, {m["os"]}; Python {m["python"]}.

Each round makes a new {_size(size)} file of random bytes (so neither the plaza nor the client's
caches hold any chunk of it) and times, one after the other: `cp` of the file then `sha256sum` of
the copy (no fsync: the limit); `HfApi.upload_file` through Xet (the default client, `hf_xet`
installed); `HfApi.upload_file` through LFS (`HF_HUB_DISABLE_XET=1`) of the same file with its
first bytes changed. Each upload runs in a child process that times `upload_file` alone, against
one `plaza serve` (SQLite) on this machine; `sync` runs before each step. The table shows each
path's median time; ratio is the median over the rounds of the limit's time / the path's time in
the same round. One untimed {_size(WARM_UP)} upload through each path comes first.

- Goal, Xet at least {UPLOAD_GOAL}× the limit: **{verdict}** ({ratio["xet"]:.2f}×).
- Xet's ratio round by round: {per_round}.
- Load average (1 minute) as each round began: {", ".join(f"{load:.1f}" for load in loads)}.

| path | time | rate | ratio | rounds |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="size of the uploaded file")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions of each transfer")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        upload_child(*args.child)
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Clean up on kill too.
    with Workspace() as ws:
        seconds, loads = bench(ws, args.size_mib * MiB, args.rounds)
    replace_section(
        args.output,
        SECTION.strip(),
        section(seconds, loads, args.size_mib * MiB, " ".join(sys.argv[1:])),
        before="## History",
    )
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
