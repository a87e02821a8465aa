"""The training benchmark: the README's digits CNN recipe (examples/recipes/digits-cnn.yaml)
through the plaza's job system against the same training as a plain PyTorch script
(``plain_digits_cnn.py``), in one run on this machine.

In each round, one after the other:

1. the plain script, started as ``python bench/plain_digits_cnn.py``: its wall time from start to
   exit, and the training time it reports;
2. the recipe submitted to a ``plaza serve`` (SQLite, its embedded worker running one job at a
   time) with ``JobsClient.submit``: the wall time from the submit call until the job is seen
   succeeded (polled every 20 ms), and the times the job logs for its phases.

Each measurement starts once the plaza's processes have been idle for a moment: after its first
job, the worker starts the next job's process ahead, and its imports would otherwise compete with
whatever runs next. The first job runs without a process started ahead, so it is reported on
its own. Both sides read the same Parquet files (the plaza through its hub API), train the same
model from the same seed and save safetensors; the job also renders its card and curves and
commits them. Each side's best round goes to a ``## Training`` section of ``bench/RESULTS.md``,
the rest of the file kept. The plaza and every file live in a temporary directory removed at the
end."""

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
from typing import TYPE_CHECKING

from report import replace_section
from servers import PlazaProcess, Workspace, host, start_plaza

if TYPE_CHECKING:
    from modelplaza.jobs.client import JobsClient

SECTION = "\n## Training"
RESULTS = Path(__file__).with_name("RESULTS.md")
PLAIN = Path(__file__).with_name("plain_digits_cnn.py")
# The README's recipe, the one the demo's visitors train first.
DIGITS_CNN_RECIPE = Path(__file__).parents[1] / "examples" / "recipes" / "digits-cnn.yaml"
GOAL = 1.10
POLL_SECONDS = 0.02
# Idle means using less than this share of a core over a quarter of a second.
IDLE_SHARE, IDLE_WINDOW = 0.05, 0.25
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
    first: Run | None = None  # the plaza's first job: no runner started ahead yet
    plain: list[Run] = field(default_factory=list)
    plaza: list[Run] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)


def seed_digits(plaza: PlazaProcess, folder: Path) -> str:
    """The demo's digits dataset, written to ``folder`` and pushed as bench/digits; the recipe
    that trains on it."""
    from huggingface_hub import HfApi

    from modelplaza.demo import DIGITS_CARD, digits_splits

    for path, data in {"README.md": DIGITS_CARD, **digits_splits()}.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    api = HfApi(endpoint=plaza.url, token=plaza.token)
    api.create_repo("bench/digits", repo_type="dataset")
    api.upload_folder(folder_path=folder, repo_id="bench/digits", repo_type="dataset")
    return DIGITS_CNN_RECIPE.read_text().replace("demo/", "bench/")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its children (started by any of its threads)."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    ticks = 0
    for process in (pid, *children):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # it ended meanwhile
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def settle(plaza: PlazaProcess, timeout: float = 60) -> None:
    """Wait until the plaza and its job processes are idle."""
    deadline = time.monotonic() + timeout
    used = tree_cpu_seconds(plaza.process.pid)
    while time.monotonic() < deadline:
        time.sleep(IDLE_WINDOW)
        used, before = tree_cpu_seconds(plaza.process.pid), used
        if used - before < IDLE_SHARE * IDLE_WINDOW:
            return
    raise RuntimeError(f"the plaza stayed busy for {timeout} s")


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


def run_plaza(jobs: JobsClient, recipe: str) -> Run:
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
        settle(plaza)
        results.first = run_plaza(jobs, recipe)
        say(f"  the plaza's first job: {_describe(results.first)}")
        for i in range(rounds):
            settle(plaza)
            results.loads.append(os.getloadavg()[0])
            results.plain.append(run_plain(data / "data", ws.root / f"plain-{i}"))
            settle(plaza)
            results.plaza.append(run_plaza(jobs, recipe))
            say(
                f"  round {i + 1}: plain {_describe(results.plain[-1])}; plaza {_describe(results.plaza[-1])}"
            )
    return results


def _describe(run: Run) -> str:
    return f"{run.wall:.2f} s (training {run.trained:.2f} s)"


def _seconds(runs: list[Run]) -> str:
    return ", ".join(f"{run.wall:.2f}" for run in runs) + " s"


def _row(what: str, run: Run, rounds: list[Run]) -> str:
    return f"| {what} | {run.wall:.2f} s | {run.trained:.2f} s | {run.accuracy:.4f} | {_seconds(rounds)} |"


def _other(run: Run) -> float:
    """Seconds of the job's wall time outside the phases it logs."""
    return run.wall - sum(run.phases.values())


def _phase_rows(warm: Run, first: Run) -> list[str]:
    rows = [f"| {name} | {warm.phases[name]:.2f} s | {first.phases[name]:.2f} s |" for name in PHASES]
    rows.append(f"| everything else | {_other(warm):.2f} s | {_other(first):.2f} s |")
    rows.append(f"| wall time, submit to succeeded | {warm.wall:.2f} s | {first.wall:.2f} s |")
    return rows


def section(r: Results, arguments: str) -> str:
    plain, plaza = min(r.plain, key=lambda run: run.wall), min(r.plaza, key=lambda run: run.wall)
    ratio, first_ratio = plaza.wall / plain.wall, r.first.wall / plain.wall
    verdict = "met" if ratio <= GOAL else "not met"
    first_verdict = "met" if first_ratio <= GOAL else "not met"
    m = host()
    command = " ".join(["python bench/train_bench.py", *([arguments] if arguments else [])])
    return f"""{SECTION}

Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`.
Machine: {m["cpu"]}, nproc {m["nproc"]}, {m["ram"]} RAM, {m["os"]}; Python {m["python"]}.

The README's digits CNN recipe (what `make run` trains into `demo/digits-cnn`: CNN with 16 and 32
channels, Adam at 0.003, 10 epochs of batches of 32, seed 0, on 1,258 / 269 / 270 rows) submitted
to one `plaza serve` (SQLite, embedded worker) with `JobsClient.submit` and timed until the job
is seen succeeded, against `bench/plain_digits_cnn.py`, the same training in plain PyTorch (same
Parquet files, scaling, architecture, seed, optimiser, batches, validation after every epoch
with the best epoch kept, test scores, safetensors) timed from its start to its exit. Each
measurement starts once the plaza's processes are idle. {len(r.plain)} rounds, each side's best
shown. The plaza's first job after it starts finds no job process started ahead (see
`jobs/worker.py`) and is shown on its own. "Training" is the epochs, validation and test
scoring, as each side reports it; the same test accuracy on both sides shows they trained the
same model.

| | wall time | training | test accuracy | rounds (wall) |
| --- | --- | --- | --- | --- |
{_row("plain PyTorch script", plain, r.plain)}
{_row("plaza job, submit to succeeded", plaza, r.plaza)}
{_row("the plaza's first job", r.first, [r.first])}

- Goal, a job at most {GOAL:.2f}× the plain script's wall time: **{verdict}** ({ratio:.2f}×) for
  a plaza that has run a job before; **{first_verdict}** ({first_ratio:.2f}×) for the first job
  after the plaza starts.
- Where a job's time goes, by the phases it logs:

| phase | plaza job | the plaza's first job |
| --- | --- | --- |
{chr(10).join(_phase_rows(plaza, r.first))}

- "Everything else" in a job whose process was started ahead: handing it the job, reading the
  job and its recipe, checking the recipe against the data, making tensors, building the model,
  recording the result, and the worker noticing the end. The first job's other
  {_other(r.first) - _other(plaza):.2f} s are starting its process and importing torch,
  scikit-learn, matplotlib and the hub client.
- The plain script spends {plain.wall - plain.trained:.2f} s outside training: starting Python,
  importing torch and pyarrow, torch importing its compiler stack as the first optimiser is built
  (`torch._dynamo`, most of a second; a job's process does that with its imports), reading the
  files and saving the weights.
- The job's training takes {plaza.trained - plain.trained:.2f} s more than the script's: it computes
  its validation metrics with scikit-learn and sends each epoch's metrics and log lines to the
  plaza as they come.
- Load average (1 minute) as each round began: {", ".join(f"{load:.1f}" for load in r.loads)}.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2, help="runs of each side; the best counts")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Clean up on kill too.
    with Workspace() as ws:
        results = bench(ws, args.rounds)
    replace_section(args.output, SECTION.strip(), section(results, " ".join(sys.argv[1:])))
    say(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
