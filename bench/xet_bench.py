"""The Xet storage benchmark: ten revisions of a safetensors model, one tensor changed in each.

It measures, and writes to ``bench/XET_RESULTS.md``:

1. uploading the ten revisions with ``HfApi.upload_file`` through Xet (the default client) vs
   through LFS (``HF_HUB_DISABLE_XET=1``): bytes the server received (growth of its xorb store for
   Xet, of its blob store for LFS), bytes stored after all ten, and the total upload time;
2. downloading the model through ``/resolve`` when it is rebuilt from Xet chunks vs when it is a
   whole blob (sent with sendfile), one curl stream into /dev/null.

The plaza (``plaza serve``, SQLite) and every file live in a temporary directory removed at the
end. The two paths upload different random tensors, so the LFS run cannot reuse what Xet stored.
``--size-mib 16`` makes a quick run while developing."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from servers import Workspace, download_seconds, start_plaza

MiB = 1 << 20
REVISIONS = 10
TENSORS = 100
ROUNDS = 3
STORE_GOAL = 1.3
RESULTS = Path(__file__).with_name("XET_RESULTS.md")
_started = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _started:7.1f}s] {message}", flush=True)


def stored_bytes(folder: Path) -> int:
    if not folder.exists():
        return 0
    files = (p for p in folder.rglob("*") if p.is_file())
    return sum(p.stat().st_size for p in files if "tmp" not in p.relative_to(folder).parts)


# --- the uploading child: one process per path, as HF_HUB_DISABLE_XET is read at import -------


def upload_revisions(
    url: str, token: str, repo_id: str, store: Path, size: int, seed: int, folder: Path
) -> None:
    """Upload ten revisions; print one JSON line per revision: seconds and bytes the store grew."""
    import torch
    from huggingface_hub import HfApi
    from safetensors.torch import save_file

    api = HfApi(endpoint=url, token=token)
    api.create_repo(repo_id)
    generator = torch.Generator().manual_seed(seed)
    numel = size // TENSORS // 4
    tensors = {f"layer.{i}.weight": torch.randn(numel, generator=generator) for i in range(TENSORS)}
    path = folder / "model.safetensors"
    for revision in range(REVISIONS):
        if revision:
            tensors[f"layer.{revision}.weight"] = torch.randn(numel, generator=generator)
        save_file(tensors, str(path))
        before = stored_bytes(store)
        start = time.perf_counter()
        api.upload_file(path_or_fileobj=str(path), path_in_repo="model.safetensors", repo_id=repo_id)
        seconds = time.perf_counter() - start
        line = {"seconds": seconds, "received": stored_bytes(store) - before, "size": path.stat().st_size}
        print(json.dumps(line), flush=True)


def run_child(plaza, repo_id: str, store: Path, size: int, seed: int, folder: Path, xet: bool) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_XET"}
    if not xet:
        env["HF_HUB_DISABLE_XET"] = "1"
    env["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    folder.mkdir()
    command = [sys.executable, __file__, "--child", plaza.url, plaza.token, repo_id, str(store)]
    command += [str(size), str(seed), str(folder)]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# --- the run --------------------------------------------------------------------------------


@dataclass
class PathResult:
    revisions: list[dict]
    stored: int  # bytes in the store after all ten

    @property
    def size(self) -> int:
        return self.revisions[0]["size"]

    @property
    def received(self) -> int:
        return sum(r["received"] for r in self.revisions)

    @property
    def seconds(self) -> float:
        return sum(r["seconds"] for r in self.revisions)


def download_rate(url: str, size: int) -> float:
    return size / MiB / statistics.median(download_seconds(url, 1, size) for _ in range(ROUNDS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=200, help="size of the model file")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, token, repo_id, store, size, seed, folder = args.child
        upload_revisions(url, token, repo_id, Path(store), int(size), int(seed), Path(folder))
        return
    size = args.size_mib * MiB
    with Workspace() as ws:
        plaza = start_plaza(ws)
        say(f"plaza at {plaza.url}, {REVISIONS} revisions of a {args.size_mib} MiB model")
        xorbs, blobs = plaza.data_dir / "xorbs", plaza.data_dir / "blobs"
        xet = run_child(plaza, "bench/xet-model", xorbs, size, 1, ws.root / "xet", xet=True)
        xet_result = PathResult(xet, stored_bytes(xorbs))
        say(f"Xet: {xet_result.seconds:.1f} s, {xet_result.received / MiB:.1f} MiB received")
        blobs_before = stored_bytes(blobs)
        lfs = run_child(plaza, "bench/lfs-model", blobs, size, 2, ws.root / "lfs", xet=False)
        lfs_result = PathResult(lfs, stored_bytes(blobs) - blobs_before)
        say(f"LFS: {lfs_result.seconds:.1f} s, {lfs_result.received / MiB:.1f} MiB received")
        file_url = "{}/bench/{}/resolve/main/model.safetensors"
        chunks_rate = download_rate(file_url.format(plaza.url, "xet-model"), xet_result.size)
        blob_rate = download_rate(file_url.format(plaza.url, "lfs-model"), lfs_result.size)
        say(f"downloads: {chunks_rate:.0f} MiB/s from chunks, {blob_rate:.0f} MiB/s from a blob")
    write_results(xet_result, lfs_result, chunks_rate, blob_rate)
    say(f"wrote {RESULTS}")


def _mib(n: float) -> str:
    return f"{n / MiB:,.1f} MiB"


def write_results(xet: PathResult, lfs: PathResult, chunks_rate: float, blob_rate: float) -> None:
    copies = xet.stored / xet.size
    verdict = "met" if copies < STORE_GOAL else "MISSED"
    rows = [
        (
            "Bytes received, revision 1",
            _mib(xet.revisions[0]["received"]),
            _mib(lfs.revisions[0]["received"]),
        ),
        (
            "Bytes received, revisions 2-10 (mean)",
            _mib(statistics.mean(r["received"] for r in xet.revisions[1:])),
            _mib(statistics.mean(r["received"] for r in lfs.revisions[1:])),
        ),
        ("Bytes received, all ten", _mib(xet.received), _mib(lfs.received)),
        (
            "Bytes stored after all ten (copies of one revision)",
            f"{_mib(xet.stored)} ({copies:.2f}x)",
            f"{_mib(lfs.stored)} ({lfs.stored / lfs.size:.2f}x)",
        ),
        (
            "Upload time, revision 1",
            f"{xet.revisions[0]['seconds']:.1f} s",
            f"{lfs.revisions[0]['seconds']:.1f} s",
        ),
        (
            "Upload time, revisions 2-10 (mean)",
            f"{statistics.mean(r['seconds'] for r in xet.revisions[1:]):.1f} s",
            f"{statistics.mean(r['seconds'] for r in lfs.revisions[1:]):.1f} s",
        ),
        ("Upload time, all ten", f"{xet.seconds:.1f} s", f"{lfs.seconds:.1f} s"),
        ("Download through /resolve (one stream)", f"{chunks_rate:.0f} MiB/s", f"{blob_rate:.0f} MiB/s"),
    ]
    table = "\n".join(f"| {name} | {a} | {b} |" for name, a, b in rows)
    RESULTS.write_text(
        f"""# Xet storage benchmark

Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs), Python
{platform.python_version()}, with `python bench/xet_bench.py --size-mib {round(xet.size / MiB)}`.

Ten revisions of a {_mib(xet.size)} safetensors model ({TENSORS} float32 tensors of random values,
one of them replaced by new random values in each revision), uploaded with `HfApi.upload_file`
through Xet (the default `hf_xet` client) and through LFS (`HF_HUB_DISABLE_XET=1`) to one
`plaza serve` (SQLite). Bytes received are measured on the server: how much its xorb store (Xet)
or blob store (LFS) grew during each upload. The Xet run stores every file as chunks only; the
downloads rebuild it from the xorbs, while the LFS file is a whole blob sent with sendfile(2).
Downloads are the median of {ROUNDS} curl runs into /dev/null over loopback.

| | Xet | LFS |
|---|---|---|
{table}

## Ratios and goals

- Stored after ten revisions: Xet **{copies:.2f}x** one copy (goal: under {STORE_GOAL}x, {verdict});
  LFS {lfs.stored / lfs.size:.2f}x. Xet stores {lfs.stored / max(xet.stored, 1):.1f}x less.
- Bytes sent for ten revisions: Xet {xet.received / max(lfs.received, 1):.2f}x of what LFS sends.
- Upload time for ten revisions: Xet {xet.seconds / lfs.seconds:.2f}x the LFS time.
- Download from chunks: {chunks_rate / blob_rate:.2f}x the speed of a whole blob.
"""
    )


if __name__ == "__main__":
    main()
