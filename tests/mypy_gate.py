"""mypy over ``src/`` against a recorded baseline: no file may gain errors, and the baseline only
shrinks.

``python -m tests.mypy_gate`` fails when a file has more errors than ``tests/mypy-baseline.txt``
allows and names them; when files have fewer, it says so and ``--update`` records the new counts.
Where a file's count grew because the lines moved but the errors stayed, fix them rather than
re-recording: the aim is zero."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tests" / "mypy-baseline.txt"
ERROR_LINE = re.compile(r"^(?P<path>[^:\s]+\.py):\d+: error: ")
HEADER = (
    "# mypy errors per file that tests/mypy_gate.py tolerates; counts may only fall.\n"
    "# Re-record after fixing some: python -m tests.mypy_gate --update\n"
)


def run_mypy() -> list[str]:
    """mypy's error lines, configured by pyproject's [tool.mypy]."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 1) or result.stderr.strip():
        raise SystemExit(f"mypy did not run:\n{result.stderr or result.stdout}")
    return [line for line in result.stdout.splitlines() if ERROR_LINE.match(line)]


def errors_by_file(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        match = ERROR_LINE.match(line)
        assert match is not None
        grouped[match["path"]].append(line)
    return grouped


def read_baseline() -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in BASELINE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            count, path = line.split(maxsplit=1)
            counts[path] = int(count)
    return counts


def write_baseline(errors: dict[str, list[str]]) -> None:
    rows = "".join(f"{len(lines)} {path}\n" for path, lines in sorted(errors.items()))
    BASELINE.write_text(HEADER + rows)


def check(errors: dict[str, list[str]], baseline: Counter[str]) -> int:
    grown = {path: lines for path, lines in errors.items() if len(lines) > baseline[path]}
    fallen = {path: baseline[path] - len(errors.get(path, [])) for path in baseline}
    fallen = {path: fewer for path, fewer in fallen.items() if fewer > 0}
    total = sum(len(lines) for lines in errors.values())
    for path, lines in sorted(grown.items()):
        print(f"{path}: {len(lines)} mypy errors, the baseline allows {baseline[path]}:")
        print("\n".join(f"  {line}" for line in lines))
    if fallen:
        listed = ", ".join(f"{path} (-{fewer})" for path, fewer in sorted(fallen.items()))
        print(f"Fewer mypy errors than recorded in {listed}.")
        print("Record the lower counts: python -m tests.mypy_gate --update")
    if grown:
        print(f"mypy: new errors in {len(grown)} file(s); fix them (the baseline only shrinks).")
        return 1
    print(f"mypy: {total} errors, none beyond the baseline of {sum(baseline.values())}.")
    return 0


def main(argv: list[str]) -> int:
    errors = errors_by_file(run_mypy())
    if "--update" in argv:
        write_baseline(errors)
        print(f"Recorded {sum(len(v) for v in errors.values())} mypy errors in {BASELINE.relative_to(ROOT)}.")
        return 0
    return check(errors, read_baseline())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
