"""``make test``: the quality gates first (they take seconds), then the unit and in-process domain
tests, every database-touching test on SQLite and on PostgreSQL, and the browser tests in
Chromium. Each step prints how long it took.

Each integration run is its own pytest process because the Hugging Face clients read
``HF_ENDPOINT`` once, at import: one process talks to one plaza by default. Tests of a setting
that is server-wide (Xet downloads) talk to a second plaza of their own and name its endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Step:
    label: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    is_pytest: bool = True  # takes the options given to make test (-x, -k ...)


def pytest(label: str, paths: list[str], **env: str) -> Step:
    return Step(label, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths], env)


STEPS = [
    Step("quality gates", [sys.executable, "-m", "tests.gates"], is_pytest=False),
    pytest("unit and domain", ["tests/unit", "tests/domain"]),
    pytest("integration on SQLite", ["tests/integration"], PLAZA_TEST_DATABASE="sqlite"),
    pytest("integration on PostgreSQL", ["tests/integration"], PLAZA_TEST_DATABASE="postgres"),
    pytest("browser (Chromium) on SQLite", ["tests/ui"], PLAZA_TEST_DATABASE="sqlite"),
]


def minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"


def main() -> int:
    extra = sys.argv[1:]  # passed to every pytest run, e.g. -x or -k
    failed = []
    started = time.perf_counter()
    for step in STEPS:
        print(f"\n=== {step.label} ===", flush=True)
        step_started = time.perf_counter()
        command = step.command + extra if step.is_pytest else step.command
        result = subprocess.run(command, env={**os.environ, **step.env})
        outcome = "passed" if result.returncode == 0 else "FAILED"
        print(f"=== {step.label}: {outcome} in {minutes(time.perf_counter() - step_started)}", flush=True)
        if result.returncode != 0:
            failed.append(step.label)
    print(f"\nmake test took {minutes(time.perf_counter() - started)}.", flush=True)
    if failed:
        print(f"FAILED: {', '.join(failed)}", flush=True)
        return 1
    print("All test runs passed.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
