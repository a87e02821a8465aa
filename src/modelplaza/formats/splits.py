"""Which files of a dataset commit hold which split, by the conventions the ``datasets`` library
follows on the Hub: the card's ``configs:`` first, then ``{split}-00000-of-00001`` shard names,
then split words in file or folder names (``train.csv``, ``data/test.jsonl``, ``valid/x.csv``);
a dataset with none of these is a single ``train`` split."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Formats the viewer reads, by file name ending.
FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}
# How messages name each format.
FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "tsv": "TSV", "jsonl": "JSON Lines", "json": "JSON"}
# JSON files that describe a dataset rather than hold its rows.
METADATA_FILES = {"dataset_info.json", "dataset_infos.json", "dataset_dict.json", "state.json"}
# Words naming a split, and the split they name.
SPLIT_WORDS = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
    "eval": "test",
    "evaluation": "test",
}
SPLIT_ORDER = ("train", "validation", "test")
_SHARD = re.compile(r"(?:^|/)(?P<split>[^/]+?)-\d{5}-of-\d{5}[^/]*$")
_DELIMITER = r"[-._ 0-9]"
_WORD_IN_NAME = re.compile(rf"(?:^|{_DELIMITER})({'|'.join(SPLIT_WORDS)})(?={_DELIMITER}|$)")


@dataclass(frozen=True)
class DataFile:
    path: str
    sha256: str
    size: int
    format: str


@dataclass(frozen=True)
class Split:
    name: str
    files: tuple[DataFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def file_format(path: str) -> str | None:
    """The viewer's name for the file's format; None for files that hold no rows."""
    parts = path.split("/")
    if any(part.startswith((".", "__")) for part in parts) or parts[-1] in METADATA_FILES:
        return None
    for ending, fmt in FORMATS.items():
        if path.lower().endswith(ending):
            return fmt
    return None


def find_splits(sizes: Mapping[str, tuple[str, int]], card_data: Mapping | None = None) -> list[Split]:
    """The splits of a commit whose files are ``{path: (sha256, size)}``, in the order
    train, validation, test, then the others by name."""
    data = {
        path: DataFile(path, sha256, size, fmt)
        for path, (sha256, size) in sorted(sizes.items())
        if (fmt := file_format(path)) is not None
    }
    by_split = _from_card(data, card_data or {}) or _from_names(data)
    order = {name: index for index, name in enumerate(SPLIT_ORDER)}
    names = sorted(by_split, key=lambda name: (order.get(name, len(order)), name))
    return [Split(name, tuple(by_split[name])) for name in names]


def _from_names(data: Mapping[str, DataFile]) -> dict[str, list[DataFile]]:
    by_split: dict[str, list[DataFile]] = {}
    for path, file in data.items():
        split = _split_of(path)
        if split is not None:
            by_split.setdefault(split, []).append(file)
    if not by_split and data:
        by_split["train"] = list(data.values())
    return by_split


def _split_of(path: str) -> str | None:
    if shard := _SHARD.search(path):
        return shard["split"]
    *folders, name = path.lower().split("/")
    if word := _WORD_IN_NAME.search(name):
        return SPLIT_WORDS[word[1]]
    for folder in reversed(folders):
        if folder in SPLIT_WORDS:
            return SPLIT_WORDS[folder]
    return None


def _from_card(data: Mapping[str, DataFile], card_data: Mapping) -> dict[str, list[DataFile]]:
    """Splits from the default config of the card's ``configs:`` list, when it names data files."""
    patterns = _split_patterns(_default_config(card_data.get("configs")))
    by_split: dict[str, list[DataFile]] = {}
    for split, globs in patterns.items():
        regexes = [glob_regex(glob) for glob in globs]
        files = [file for path, file in data.items() if any(r.fullmatch(path) for r in regexes)]
        if files:
            by_split[split] = files
    return by_split


def _default_config(configs: object) -> Mapping:
    if not isinstance(configs, list):
        return {}
    configs = [c for c in configs if isinstance(c, Mapping)]
    for config in configs:
        if config.get("default") is True or config.get("config_name") == "default":
            return config
    return configs[0] if configs else {}


def _split_patterns(config: Mapping) -> dict[str, list[str]]:
    """``data_files`` as ``{split: [glob, ...]}``, whichever of its shapes the card uses."""
    data_files = config.get("data_files")
    if isinstance(data_files, Mapping):
        return {str(split): _strings(globs) for split, globs in data_files.items()}
    if not isinstance(data_files, list) or not all(isinstance(item, Mapping) for item in data_files):
        return {"train": _strings(data_files)} if data_files else {}
    patterns: dict[str, list[str]] = {}
    for item in data_files:
        patterns.setdefault(str(item.get("split", "train")), []).extend(_strings(item.get("path")))
    return patterns


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, Iterable) else []


def glob_regex(glob: str) -> re.Pattern:
    """A regex for a data_files glob: ``*`` and ``?`` stay within a folder, ``**`` crosses them."""
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (close := glob.find("]", i + 2)) != -1:
            body = glob[i + 1 : close]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out))
