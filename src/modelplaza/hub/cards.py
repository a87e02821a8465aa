"""Model and dataset cards: README.md front matter, parsed with huggingface_hub's card tools.

A broken front matter is explained in one line that counts lines from the top of README.md, as
an editor shows them (PyYAML counts from the first line of the YAML, and dumps its own text)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from huggingface_hub import RepoCard
from huggingface_hub.repocard import REGEX_YAML_BLOCK

from modelplaza.errors import BadRequest


class InvalidCardMetadata(BadRequest):
    pass


@dataclass
class CardMetadata:
    card_data: dict = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    pipeline_tag: str | None = None
    library_name: str | None = None
    # The prose after the front matter.
    text: str = ""


def as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def parse_card(text: str) -> CardMetadata:
    """Card metadata from README text; InvalidCardMetadata when the YAML header is broken."""
    try:
        card = RepoCard(text, ignore_metadata_errors=False)
    except yaml.MarkedYAMLError as exc:
        raise InvalidCardMetadata(yaml_problem(text, exc)) from None
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidCardMetadata(f"Invalid metadata in README.md: {_not_a_mapping(text, exc)}") from None
    data = card.data.to_dict()
    return CardMetadata(
        card_data=data,
        tags=derive_tags(data),
        pipeline_tag=data.get("pipeline_tag"),
        library_name=data.get("library_name"),
        text=card.text,
    )


def derive_tags(data: dict) -> list[str]:
    """The Hub's convention: card tags plus prefixed tags for licence, datasets, base model."""
    tags = as_list(data.get("tags"))
    for key in ("library_name", "pipeline_tag"):
        tags += as_list(data.get(key))
    tags += [f"license:{v}" for v in as_list(data.get("license"))]
    tags += [f"dataset:{v}" for v in as_list(data.get("datasets"))]
    tags += [f"base_model:{v}" for v in as_list(data.get("base_model"))]
    tags += as_list(data.get("language"))
    for key in ("task_categories", "task_ids", "size_categories", "language_creators"):
        tags += [f"{key}:{v}" for v in as_list(data.get(key))]
    return list(dict.fromkeys(tags))


def validation_errors(text: str) -> list[str]:
    """Messages for the validate-yaml endpoint; empty when the card is valid."""
    try:
        parse_card(text)
    except InvalidCardMetadata as exc:
        return [exc.message]
    return []


# PyYAML's wording for the mistakes people make most, said the way a card's author would fix them.
_HINTS = (
    ("mapping values are not allowed here", "a value contains ': ' (put that value in quotes)"),
    ("cannot start any token", "a tab character: YAML indents with spaces only"),
    ("expected ',' or ']'", "a list opened with '[' is not closed with ']'"),
    ("expected ',' or '}'", "a mapping opened with '{' is not closed with '}'"),
    ("could not find expected ':'", "a line is neither 'key: value' nor a '- item' of a list"),
    ("found unexpected end of stream", "the metadata ends inside a quoted value (a quote is not closed)"),
)
# What PyYAML was reading when it failed ("while parsing a flow sequence"), in plain words.
_CONSTRUCTS = {
    "flow sequence": "the list that opens",
    "flow mapping": "the mapping that opens",
    "quoted scalar": "the quoted value that opens",
    "simple key": "the key",
    "block mapping": "the mapping that starts",
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def yaml_problem(text: str, exc: yaml.MarkedYAMLError) -> str:
    """One line: where in README.md the YAML front matter breaks (line numbers of the file),
    what that line says, and what is wrong."""
    match = REGEX_YAML_BLOCK.search(text)
    offset = len(_LINE_BREAK.findall(match.group(1))) if match else 0
    lines = _LINE_BREAK.split(text)

    def at(mark: yaml.Mark) -> str:
        number = mark.line + offset + 1
        shown = lines[number - 1].strip() if number <= len(lines) else ""
        return f"line {number}" + (f" ({_short(shown)})" if shown else "")

    problem = (exc.problem or "").replace("'<stream end>'", "the end of the metadata")
    message = (
        f"Invalid metadata in README.md at {at(exc.problem_mark) if exc.problem_mark else 'its start'}: "
    )
    message += next((hint for pattern, hint in _HINTS if pattern in problem), problem)
    construct = _CONSTRUCTS.get((exc.context or "").split(" a ", 1)[-1])
    context, problem_mark = exc.context_mark, exc.problem_mark
    if construct and context and (problem_mark is None or context.line != problem_mark.line):
        message += f"; see {construct} at {at(context)}"
    return message


def _not_a_mapping(text: str, exc: Exception) -> str:
    if "should be a dict" in str(exc):
        return (
            "the YAML between the --- lines must be 'key: value' lines (such as 'license: mit'), "
            "not a list or a single value"
        )
    return str(exc)


def _short(line: str, limit: int = 60) -> str:
    return repr(line if len(line) <= limit else line[: limit - 1] + "…")
