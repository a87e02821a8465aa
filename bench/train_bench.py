"""The training benchmark: the demo's digits CNN recipe through the plaza's job system against the
same training as a plain PyTorch script (``plain_digits_cnn.py``), in one run on this machine.

In each round, one after the other:

1. the plain script, started as ``python bench/plain_digits_cnn.py``: its wall time from start to
   exit, and the training time it reports;
2. the recipe submitted to a ``plaza serve`` (SQLite, its embedded worker running one job at a
   time) with ``JobsClient.submit``: the wall time from the submit call until the job is seen
   succeeded (polled every 20 ms), and the training time the job logs ("Trained in ...").

Both read the same Parquet files (the plaza through its hub API), train the same model from the
same seed and save safetensors; the job also renders its card and curves and commits them. Each
side's best round goes to a ``## Training`` section of ``bench/RESULTS.md``, the rest of the
file kept. The plaza and every file live in a temporary directory removed at the end."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from servers import PlazaProcess, Workspace, host, start_plaza

SECTION = "\n## Training"
RESULTS = Path(__file__).with_name("RESULTS.md")
PLAIN = Path(__file__).with_name("plain_digits_cnn.py")
GOAL = 1.10
POLL_SECONDS = 0.02
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


@dataclass
class Run:
    wall: float  # seconds
    trained: float  # seconds, as the run itself reports
    accuracy: float  # on the test split
    phases: dict[str, float] = field(default_factory=dict)  # the job's own timings


@dataclass
class Results:
    plain: list[Run] = field(default_factory=list)
    plaza: list[Run] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


def seed_digits(plaza: PlazaProcess, folder: Path) -> str:
    """The demo's digits dataset, written to ``folder`` and pushed as bench/digits; the recipe
    that trains on it."""
    from huggingface_hub import HfApi

    from modelplaza.demo import DIGITS_CARD, DIGITS_CNN_RECIPE, digits_splits

    for path, data in {"README.md": DIGITS_CARD, **digits_splits()}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    api = HfApi(endpoint=plaza.url, token=plaza.token)
    api.create_repo("bench/digits", repo_type="dataset")
    api.upload_folder(folder_path=folder, repo_id="bench/digits", repo_type="dataset")
    return DIGITS_CNN_RECIPE.replace("demo/", "bench/")


def run_plain(data: Path, output: Path) -> Run:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(PLAIN), str(data), str(output)], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    figures = dict(line.split() for line in done.stdout.splitlines())
    return Run(wall, float(figures["trained"]), float(figures["test_accuracy"]))


# What the training job logs about its phases, in seconds.
PHASES = {
    "read the dataset": r"Dataset .* \(read in ([\d.]+) s\)",
    "train": r"Trained in ([\d.]+) s",
    "save the model, card and curves": r"Saved the model, its card and curves in ([\d.]+) s",
    "commit": r"Committed \w+ to .* in ([\d.]+) s",
}


def run_plaza(jobs, recipe: str) -> Run:
    """Submit the recipe and wait for the job; its wall time, phases and test accuracy."""
    start = time.perf_counter()
    job_id = jobs.submit(recipe)["id"]
    while (job := jobs.get(job_id))["state"] in ("queued", "running"):
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - start
    logs = jobs.logs(job_id)
    if job["state"] != "succeeded":
        raise RuntimeError(f"job {job_id} {job['state']}: {job['message']}\n{logs}")
    phases = {name: float(re.search(pattern, logs)[1]) for name, pattern in PHASES.items()}
    return Run(wall, phases["train"], job["progress"]["test_accuracy"], phases)


def bench(ws: Workspace, rounds: int) -> Results:
    from modelplaza.jobs.client import JobsClient

    plaza = start_plaza(ws)
    say(f"plaza at {plaza.url}")
    data = ws.root / "digits"
    recipe = seed_digits(plaza, data)
    results = Results()
    with JobsClient(plaza.url, plaza.token) as jobs:
        for i in range(rounds):
            results.loads.append(os.getloadavg()[0])
            results.plain.append(run_plain(data / "data", ws.root / f"plain-{i}"))
            results.plaza.append(run_plaza(jobs, recipe))
            say(
                f"  round {i + 1}: plain {results.plain[-1].wall:.2f} s "
                f"(training {results.plain[-1].trained:.2f} s), plaza {results.plaza[-1].wall:.2f} s "
                f"(training {results.plaza[-1].trained:.2f} s)"
            )
    return results


def _seconds(runs: list[Run], attribute: str = "wall") -> str:
    return ", ".join(f"{getattr(run, attribute):.2f}" for run in runs) + " s"


def section(r: Results, arguments: str) -> str:
    plain, plaza = min(r.plain, key=lambda run: run.wall), min(r.plaza, key=lambda run: run.wall)
    ratio = plaza.wall / plain.wall
    verdict = "met" if ratio <= GOAL else "not met"
    overhead = plaza.wall - plaza.trained
    phases = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in plaza.phases.items())
    accounted = sum(plaza.phases.values())
    m = host()
    command = " ".join(["python bench/train_bench.py", *([arguments] if arguments else [])])
    return f"""{SECTION}

Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`.
Machine: {m["cpu"]}, nproc {m["nproc"]}, {m["ram"]} RAM, {m["os"]}; Python {m["python"]}.

The demo's digits CNN recipe (`demo/digits-cnn` in the README: CNN 16/32 channels, Adam 0.003,
10 epochs of batches of 32, seed 0, on 1,258 / 269 / 270 rows) submitted to one `plaza serve`
(SQLite, embedded worker) with `JobsClient.submit`, timed until the job is seen succeeded, against
`bench/plain_digits_cnn.py`, the same training in plain PyTorch (same Parquet files, scaling,
architecture, seed, optimiser, batches, per-epoch validation with the best epoch kept, test
scores, safetensors), timed from start to exit. {len(r.plain)} rounds; each side's best round.

| | wall time | training | test accuracy | rounds (wall) |
| --- | --- | --- | --- | --- |
| plain PyTorch script | {plain.wall:.2f} s | {plain.trained:.2f} s | {plain.accuracy:.4f} | {_seconds(r.plain)} |
| plaza job, submit to succeeded | {plaza.wall:.2f} s | {plaza.trained:.2f} s | {plaza.accuracy:.4f} | {_seconds(r.plaza)} |

- Goal, the job at most {GOAL:.2f}× the plain script's wall time: **{verdict}** ({ratio:.2f}×).
- The job's own phases: {phases}; the remaining {plaza.wall - accounted:.2f} s are the
  worker noticing the job, starting its process, importing what it needs, and the worker
  noticing its end. Everything but training: {overhead:.2f} s (the plain script's:
  {plain.wall - plain.trained:.2f} s, mostly starting Python and importing torch).
- Load average (1 minute) as each round began: {", ".join(f"{load:.1f}" for load in r.loads)}.
"""


def write_section(path: Path, text: str) -> None:
    """Put the section in place of the one the file has (up to the next ``##`` heading), else last."""
    old = path.read_text() if path.exists() else ""
    if SECTION in old:
        head, _, rest = old.partition(SECTION)
        tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
    else:
        head, tail = old, ""
    path.write_text(head.rstrip("\n") + "\n" + text.rstrip("\n") + "\n" + tail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side; the best counts")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Clean up on kill too.
    with Workspace() as ws:
        results = bench(ws, args.rounds)
    write_section(args.output, section(results, " ".join(sys.argv[1:])))
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
