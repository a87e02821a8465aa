"""``make test``: unit tests once, then every database-touching test on SQLite and on PostgreSQL,
once more with the opt-in Xet downloads switched on, then the browser tests in Chromium.

Each integration run is its own pytest process because the Hugging Face clients read
``HF_ENDPOINT`` once, at import: one process talks to one plaza."""

from __future__ import annotations

import os
import subprocess
import sys

RUNS = [
    ("unit", ["tests/unit"], {}),
    ("integration on SQLite", ["tests/integration"], {"PLAZA_TEST_DATABASE": "sqlite"}),
    ("integration on PostgreSQL", ["tests/integration"], {"PLAZA_TEST_DATABASE": "postgres"}),
    # Xet downloads are opt-in: the whole suite must pass with them on as well as off.
    (
        "integration on SQLite, Xet downloads on",
        ["tests/integration"],
        {"PLAZA_TEST_DATABASE": "sqlite", "PLAZA_XET_DOWNLOADS": "1"},
    ),
    ("browser (Chromium) on SQLite", ["tests/ui"], {"PLAZA_TEST_DATABASE": "sqlite"}),
]


def main() -> int:
    extra = sys.argv[1:]
    failed = []
    for label, paths, env in RUNS:
        print(f"\n=== {label} ===", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths, *extra],
            env={**os.environ, **env},
        )
        if result.returncode != 0:
            failed.append(label)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", flush=True)
        return 1
    print("\nAll test runs passed.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
