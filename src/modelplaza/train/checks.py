"""Checks of a recipe against the dataset it names: the columns exist and have usable types,
the shapes add up, the labels fit the loss. Run before training, on the dataset's schema."""

from __future__ import annotations

from collections.abc import Collection
from fnmatch import fnmatchcase

import pyarrow as pa

from modelplaza.formats.splits import FORMAT_NAMES
from modelplaza.train.recipe import Recipe, RecipeError


def check_against(
    recipe: Recipe,
    schema: pa.Schema,
    n_classes: int | None = None,
    splits: Collection[str] | None = None,
) -> list[str]:
    """Raise RecipeError listing every way `recipe` does not fit a dataset with this `schema`,
    `n_classes` distinct labels (classification, when known) and these split names (when known).
    Returns the input columns, glob patterns expanded."""
    problems: list[str] = []
    if splits is not None:
        problems += _split_problems(recipe, splits)
    label = recipe.data.label
    columns, input_problems = expand_inputs(recipe.data.inputs, schema.names, label)
    problems += input_problems
    if label not in schema.names:
        problems.append(
            f"data.label: no column {label!r} in the dataset; columns are {_listing(schema.names)}"
        )
    elif label in columns:
        problems.append(f"data.inputs: includes the label column {label!r}")
    else:
        problems += _label_problems(recipe, schema.field(label).type, n_classes)
    if columns and not input_problems:
        problems += _input_type_problems(recipe, schema, columns)
    if problems:
        raise RecipeError(problems)
    return columns


def expand_inputs(patterns: list[str], names: list[str], label: str) -> tuple[list[str], list[str]]:
    """Input columns in dataset order for each pattern, and problems. A glob (`pixel_*`) never
    picks the label column; naming it outright is a problem the caller reports."""
    columns: list[str] = []
    problems: list[str] = []
    for pattern in patterns:
        matched = [
            name for name in names if name == pattern or (fnmatchcase(name, pattern) and name != label)
        ]
        if not matched:
            problems.append(
                f"data.inputs: no column {pattern!r} in the dataset; columns are {_listing(names)}"
            )
        columns += [name for name in matched if name not in columns]
    return columns, problems


def feature_count(schema: pa.Schema, columns: list[str]) -> int | None:
    """Numbers per row the columns give, or None when a variable-length list hides it."""
    total = 0
    for name in columns:
        kind = schema.field(name).type
        if pa.types.is_fixed_size_list(kind):
            total += kind.list_size
        elif is_list(kind):
            return None
        else:
            total += 1
    return total


def is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)


def is_numeric(kind: pa.DataType) -> bool:
    """Numbers, or lists of numbers."""
    if is_list(kind):
        kind = kind.value_type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _split_problems(recipe: Recipe, available: Collection[str]) -> list[str]:
    splits = recipe.data.splits
    wanted: dict[str, str | None] = {"train": splits.train}
    if splits.ratios is None:
        wanted |= {"validation": splits.validation, "test": splits.test}
    return [
        f"data.splits.{role}: the dataset has no split {name!r}; it has {_listing(sorted(available))}"
        for role, name in wanted.items()
        if name is not None and name not in available
    ]


def _label_problems(recipe: Recipe, kind: pa.DataType, n_classes: int | None) -> list[str]:
    label = recipe.data.label
    if recipe.task == "regression":
        if is_list(kind) or not is_numeric(kind):
            return [f"data.label: {label!r} holds {kind}; loss {recipe.loss.name} needs a numeric label"]
        return []
    if n_classes is None:
        return []
    if n_classes < 2:
        return [f"data.label: {label!r} has {n_classes} class; classification needs at least 2"]
    if recipe.loss.name == "bce" and n_classes > 2:
        return [f"loss.name: bce is for two classes but {label!r} has {n_classes}; use cross_entropy"]
    return []


def _input_type_problems(recipe: Recipe, schema: pa.Schema, columns: list[str]) -> list[str]:
    pre = recipe.data.preprocessing
    if pre.text is not None:
        kind = schema.field(columns[0]).type
        if len(columns) != 1:
            return [f"data.inputs: text preprocessing takes one text column, got {len(columns)}"]
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return [f"data.inputs: column {columns[0]!r} holds {kind}, not text"]
        return []
    problems = [
        f"data.inputs: column {name!r} holds {schema.field(name).type}, not numbers"
        + (
            "; tokenise text with data.preprocessing.text"
            if pa.types.is_string(schema.field(name).type)
            else ""
        )
        for name in columns
        if not is_numeric(schema.field(name).type)
    ]
    count = feature_count(schema, columns)
    if pre.reshape and count is not None and not problems:
        problems += shape_problems(pre.reshape, count)
    return problems


def shape_problems(shape: list[int], count: int) -> list[str]:
    size = 1
    for dim in shape:
        size *= dim
    if size == count:
        return []
    return [f"data.preprocessing.reshape: {shape} holds {size} values but the inputs give {count} per row"]


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "") if names else "none"


def no_data_files(dataset: str, revision: str) -> RecipeError:
    formats = ", ".join(FORMAT_NAMES.values())
    return RecipeError([f"data.dataset: {dataset} has no data files at {revision!r} ({formats})"])
