"""The README's fenced blocks, for the tests that check it can be followed as written."""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
LOCAL_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    section: str  # the heading the block comes under


def blocks(language: str | None = None) -> list[Block]:
    found, section = [], ""
    lines = iter(README.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if line.startswith("#"):
            section = line.lstrip("#").strip()
        elif line.startswith("```") and len(line) > 3:
            body = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner)
            found.append(Block(line[3:].strip(), "\n".join(body) + "\n", section))
    return [block for block in found if language is None or block.language == language]


def block_in(section: str, language: str, containing: str = "") -> Block:
    [block] = [b for b in blocks(language) if b.section == section and containing in b.text]
    return block


def commands(block: Block) -> list[list[str]]:
    """Each line of a bash block as words, comments and redirections left out."""
    out = []
    for line in block.text.splitlines():
        words = shlex.split(line, comments=True)
        while len(words) >= 2 and words[-2] in ("<", ">"):
            words = words[:-2]
        if words:
            out.append(words)
    return out


def plaza_shim(directory: Path) -> Path:
    """A ``plaza`` command in ``directory`` running this checkout's code with this Python: what
    ``. .venv/bin/activate`` puts first on PATH in a clone."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "plaza"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m modelplaza.cli.main "$@"\n')
    shim.chmod(0o755)
    return shim


def mentioned_paths() -> set[str]:
    """Paths in this repository the README names (``examples/...``, ``docs/...``)."""
    text = README.read_text(encoding="utf-8")
    return set(re.findall(r"\b((?:examples|docs|bench|tests|src)/[\w./-]*\w/?)", text))
