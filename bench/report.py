"""``bench/RESULTS.md``: the figures of one run as a table, and how they were measured.

The sections already in the file from ``## Xet upload`` (written by ``xet_upload_bench.py``) or
``## History`` (before/after notes written by hand) on are kept."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

MiB = 1 << 20
KEPT = ("\n## Xet upload", "\n## History")
DOWNLOAD_GOAL = 0.9
UPLOAD_GOAL = 0.7


@dataclass
class Downloads:
    """Per (server, streams), one value per round: seconds until every stream finished, and the
    CPU seconds the server process (with its workers) spent meanwhile."""

    seconds: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    cpu: dict[tuple[str, int], list[float]] = field(default_factory=dict)

    def add(self, server: str, streams: int, seconds: float, cpu: float) -> None:
        self.seconds.setdefault((server, streams), []).append(seconds)
        self.cpu.setdefault((server, streams), []).append(cpu)

    def streams(self) -> list[int]:
        return sorted({streams for _, streams in self.seconds})

    def rate(self, server: str, streams: int, size: int) -> float:
        """MiB/s of the median round."""
        return streams * size / MiB / statistics.median(self.seconds[server, streams])

    def cpu_per_gib(self, server: str, streams: int, size: int) -> float:
        return statistics.median(self.cpu[server, streams]) / (streams * size / (1 << 30))


@dataclass
class Results:
    size: int
    rounds: int
    machine: dict[str, str]
    upload: list[float] = field(default_factory=list)
    cp_sha256sum: list[float] = field(default_factory=list)
    downloads: Downloads = field(default_factory=Downloads)
    repos: int = 0
    seed_seconds: float = 0.0
    search: list[float] = field(default_factory=list)
    matches: dict[str, int] = field(default_factory=dict)


def _size(size: int) -> str:
    return f"{size / (1 << 30):g} GiB" if size >= 1 << 30 else f"{size / MiB:g} MiB"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _verdict(ratio: float, goal: float) -> list[str]:
    return [f"{ratio:.2f}×", f"≥ {goal}×", "yes" if ratio >= goal else "**no**"]


def _download_rows(r: Results) -> list[str]:
    rows = []
    for streams in r.downloads.streams():
        what = f"download {_size(r.size)}, " + (
            "1 stream" if streams == 1 else f"{streams} concurrent streams"
        )
        plaza, nginx = (r.downloads.rate(server, streams, r.size) for server in ("plaza", "nginx"))
        cpu = {server: r.downloads.cpu_per_gib(server, streams, r.size) for server in ("plaza", "nginx")}
        rows.append(
            _row(
                what,
                f"{plaza:,.0f} MiB/s (CPU {cpu['plaza']:.2f} s/GiB)",
                f"nginx {nginx:,.0f} MiB/s (CPU {cpu['nginx']:.2f} s/GiB)",
                *_verdict(plaza / nginx, DOWNLOAD_GOAL),
            )
        )
    return rows


def _upload_row(r: Results) -> str:
    plaza, reference = statistics.median(r.upload), statistics.median(r.cp_sha256sum)
    return _row(
        f"upload + commit {_size(r.size)} (huggingface_hub, LFS)",
        f"{plaza:.2f} s ({r.size / MiB / plaza:,.0f} MiB/s)",
        f"cp + sha256sum {reference:.2f} s",
        *_verdict(reference / plaza, UPLOAD_GOAL),
    )


def _search_row(r: Results) -> str:
    p50 = statistics.median(r.search) * 1000
    p99 = statistics.quantiles(r.search, n=100, method="inclusive")[98] * 1000
    what = f"`list_models(search=…, limit=100)`, {r.repos:,} repos"
    return _row(what, f"p50 {p50:.1f} ms, p99 {p99:.1f} ms", "—", "—", "—", "—")


def _rounds(values: list[float], unit: str = "s") -> str:
    return ", ".join(f"{v:.2f}" for v in values) + f" {unit}"


def _details(r: Results) -> list[str]:
    lines = [
        f"- {server}, {streams} stream(s): {_rounds(seconds)}; server CPU {_rounds(r.downloads.cpu[server, streams])}"
        for (server, streams), seconds in r.downloads.seconds.items()
    ]
    lines.append(f"- upload + commit: {_rounds(r.upload)}; cp + sha256sum: {_rounds(r.cp_sha256sum)}")
    terms = ", ".join(
        f"`{term}` ({count:,} match{'' if count == 1 else 'es'})" for term, count in r.matches.items()
    )
    lines.append(f"- search terms, cycled: {terms}; seeding the repos took {r.seed_seconds:.1f} s")
    return lines


def _method(r: Results) -> str:
    size = _size(r.size)
    return (
        f"""\
## How it was measured

Everything runs on this one machine, over loopback, in one process tree: a fresh `plaza serve`
(granian, SQLite in a temporary data dir), a user and write token made with `plaza admin`.
Each transfer is repeated {r.rounds} times; the table shows the median round (times of every round
below). Other work on the machine (it is shared) adds noise.

- **Download**: a {size} file of random bytes is uploaded, then fetched with curl into `/dev/null`,
  from `GET /{{repo}}/resolve/main/{{file}}` and from Debian's nginx (own minimal config, `sendfile on`,
  `worker_processes auto`, access log off) serving *the very same blob file* from the plaza's store,
  so both read the same page-cached bytes. "8 concurrent streams" starts 8 curl processes at once
  and divides 8 × {size} by the time until the last one finishes. One warm-up fetch each first; the
  servers alternate within each round. "CPU" is the CPU time of the server's processes (nginx:
  master and workers) per GiB sent, read from `/proc`: less sensitive to the machine's other load
  than the rates are.
- **Upload**: `HfApi.upload_file` of the {size} file with `HF_HUB_DISABLE_XET=1` (the LFS path):
  client-side sha256, preupload, LFS batch, PUT of the bytes (server hashes, writes, fsyncs and
  renames the blob), verify, commit. Reference: `cp` of the same file then `sha256sum` of the copy
  (no fsync). Ratio = time(cp + sha256sum) / time(upload). Before each side `sync` flushes dirty
  pages, and the first bytes of the file change each round so the plaza never skips a known object.
- **Search**: the database is filled to {r.repos:,} public model repos through the domain functions
  (`hub.repos.create_repo`, each with its initial commit), then `HfApi.list_models(search=term,
  limit=100)` is timed {len(r.search)} times, cycling through the terms below (one untimed full
  listing per term first, which also counts its matches).

Rounds:

"""
        + "\n".join(_details(r))
        + "\n"
    )


def write_results(path: Path, r: Results, arguments: str) -> None:
    m = r.machine
    command = " ".join(["python bench/hub_bench.py", *([arguments] if arguments else [])])
    old = path.read_text() if path.exists() else ""
    starts = [old.index(heading) for heading in KEPT if heading in old]
    text = "\n".join(
        [
            "# Hub benchmark",
            "",
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}`.",
            f"Machine: {m['cpu']}, nproc {m['nproc']}, {m['ram']} RAM, {m['os']}; Python {m['python']},",
            f"{m['nginx']}, curl {m['curl']}.",
            "",
            _row("measurement", "ModelPlaza", "reference", "ratio", "goal", "met"),
            _row(*["---"] * 6),
            *_download_rows(r),
            _upload_row(r),
            _search_row(r),
            "",
            _method(r),
        ]
    )
    path.write_text(text + (old[min(starts) :] if starts else ""))


def replace_section(path: Path, heading: str, text: str, *, before: str | None = None) -> None:
    """Put a section in place of the one under the same ``heading`` (up to the next ``##``
    heading); if the file has none, before the ``before`` heading where there is one, else at
    the end of the file."""
    old = path.read_text() if path.exists() else ""
    if f"\n{heading}\n" in old:  # the heading itself, not a longer one it begins
        head, _, rest = old.partition(f"\n{heading}\n")
        tail = rest[rest.find("\n## ") :] if "\n## " in rest else ""
    elif before and f"\n{before}\n" in old:
        head, _, rest = old.partition(f"\n{before}\n")
        tail = f"\n{before}\n{rest}"
    else:
        head, tail = old, ""
    path.write_text(head.rstrip("\n") + "\n\n" + text.strip("\n") + "\n" + tail)
