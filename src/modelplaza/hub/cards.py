"""Model and dataset cards: README.md front matter, parsed with huggingface_hub's card tools."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml
from huggingface_hub import RepoCard

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
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidCardMetadata(f"Invalid metadata in README.md: {exc}") from None
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
