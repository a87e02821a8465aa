"""Turns pydantic's validation errors on a recipe into one readable line per problem:
`optimizer.name: unknown optimiser 'adamx'; choose one of sgd, adagrad, rmsprop, adam, adamw`."""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

# What a choice field chooses, for "unknown <noun> 'x'" messages.
NOUNS = {
    "model.type": "architecture",
    "model.cell": "cell",
    "model.activation": "activation",
    "optimizer.name": "optimiser",
    "optimizer.schedule.name": "schedule",
    "loss.name": "loss",
    "data.preprocessing.scale": "scaling",
}


def describe(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One 'field.path: what is wrong' line per problem, in the order pydantic found them."""
    lines: list[str] = []
    for detail in error.errors(include_url=False):
        for line in _lines(detail, root):
            if line not in lines:
                lines.append(line)
    return lines


def _lines(detail: Any, root: type[BaseModel]) -> list[str]:
    kind, loc, value = detail["type"], detail["loc"], detail.get("input")
    ctx = detail.get("ctx") or {}
    path, model = _walk(loc, root)
    if kind == "recipe_problems":
        return [f"{_join(path, field)}: {message}" for field, message in ctx["problems"].items()]
    if kind == "extra_forbidden":
        _, parent = _walk(loc[:-1], root)
        known = f"; expected one of {', '.join(parent.model_fields)}" if parent else ""
        return [f"{path}: unknown field{known}"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        field = ctx["discriminator"].strip("'")
        if kind == "union_tag_not_found":
            return [f"{_join(path, field)}: required"]
        choices = ", ".join(re.findall(r"'([^']*)'", ctx["expected_tags"]))
        return [
            f"{_join(path, field)}: unknown {_noun(_join(path, field))} {ctx['tag']!r}; choose one of {choices}"
        ]
    if kind == "literal_error":
        choices = ", ".join(re.findall(r"'([^']*)'", ctx["expected"]))
        return [f"{path}: unknown {_noun(path)} {value!r}; choose one of {choices}"]
    return [f"{path or 'recipe'}: {_message(kind, detail['msg'], value, model)}"]


def _message(kind: str, text: str, value: Any, model: type[BaseModel] | None) -> str:
    if kind == "missing":
        return "required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        fields = f" ({', '.join(model.model_fields)})" if model else ""
        return f"must be a mapping of fields{fields}, got {value!r}"
    if kind == "value_error":
        text = text.removeprefix("Value error, ")
        return text[:1].lower() + text[1:] if text[1:2].islower() else text
    # "Input should be a valid integer, unable to parse ..." -> "must be a valid integer, got 'x'"
    text = re.sub(r"^\w+ should ", "must ", text.split(", ")[0]).removesuffix(" after validation")
    return f"{text}, got {value!r}" if isinstance(value, str | int | float | bool) else text


def _walk(loc: tuple[Any, ...], root: type[BaseModel]) -> tuple[str, type[BaseModel] | None]:
    """The printed path of a pydantic error location (union tags dropped, list indexes in
    brackets) and the recipe model found there, if any."""
    parts: list[str] = []
    model: type[BaseModel] | None = root
    rest = list(loc)
    while rest:
        key = rest.pop(0)
        if isinstance(key, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{key}]"]
            continue
        parts.append(str(key))
        field = model.model_fields.get(key) if model else None
        model = None
        candidates = _models_in(field.annotation) if field else []
        if len(candidates) == 1:
            model = candidates[0]
        elif candidates and rest:
            tag = rest.pop(0)
            model = next((m for m in candidates if _tag(m) == tag), None)
    return ".".join(parts), model


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def _tag(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("type")
    return get_args(field.annotation)[0] if field else None


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path else field


def _noun(path: str) -> str:
    return NOUNS.get(path, "value")
