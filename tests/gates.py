"""The quality gates, the fast first step of ``make test``: lint, formatting, types and the import
contracts. ``python -m tests.gates`` runs them all, so one run shows every problem."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["src", "tests", "bench"]
CONTRACTS = ROOT / ".importlinter"
# Console scripts live beside the interpreter of the virtualenv running the tests.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@dataclass(frozen=True)
class Gate:
    label: str
    command: list[str]
    needs: Path | None = None  # a file the check reads; its absence fails the gate


GATES = [
    Gate("ruff check", [sys.executable, "-m", "ruff", "check", *SOURCES]),
    Gate("ruff format --check", [sys.executable, "-m", "ruff", "format", "--check", *SOURCES]),
    Gate("mypy", [sys.executable, "-m", "mypy"]),  # over src/, as pyproject's [tool.mypy] says
    Gate("import contracts", [str(LINT_IMPORTS), "--no-cache", str(CONTRACTS)], needs=CONTRACTS),
]


def run_gate(gate: Gate) -> bool:
    print(f"--- {gate.label}", flush=True)
    if gate.needs is not None and not gate.needs.exists():
        print(f"FAILED: {gate.needs.relative_to(ROOT)} is missing: the gate has nothing to check.")
        return False
    started = time.perf_counter()
    passed = subprocess.run(gate.command, cwd=ROOT).returncode == 0
    print(f"    {'passed' if passed else 'FAILED'} in {time.perf_counter() - started:.1f} s", flush=True)
    return passed


def main() -> int:
    failed = [gate.label for gate in GATES if not run_gate(gate)]
    if failed:
        print(f"Quality gates failed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
