"""What kind of values a column holds, from its Arrow type and the ``datasets`` features that
files written by ``datasets`` carry in their schema metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.types as pat

# Kinds that get statistics; images, bytes and nested values do not.
STAT_KINDS = ("number", "boolean", "string", "datetime")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # the Arrow type, as Arrow writes it
    kind: str  # number, boolean, string, datetime, image, binary, list, struct or other


def _features(schema: pa.Schema) -> dict:
    """The ``datasets`` features saved with the file, by column; empty when there are none."""
    try:
        info = json.loads((schema.metadata or {}).get(b"huggingface", b"{}"))
        features = info.get("info", {}).get("features", {})
    except (ValueError, AttributeError):
        return {}
    return features if isinstance(features, dict) else {}


def _is_image_struct(arrow_type: pa.DataType) -> bool:
    return (
        pat.is_struct(arrow_type)
        and {arrow_type.field(i).name for i in range(arrow_type.num_fields)} == {"bytes", "path"}
        and _is_binary(arrow_type.field("bytes").type)
    )


def _is_binary(arrow_type: pa.DataType) -> bool:
    return (
        pat.is_binary(arrow_type) or pat.is_large_binary(arrow_type) or pat.is_fixed_size_binary(arrow_type)
    )


def kind_of(arrow_type: pa.DataType, feature: object = None) -> str:
    if (isinstance(feature, dict) and feature.get("_type") == "Image") or _is_image_struct(arrow_type):
        return "image"
    if pat.is_dictionary(arrow_type):
        return kind_of(arrow_type.value_type)
    checks = (
        ("number", lambda t: pat.is_integer(t) or pat.is_floating(t) or pat.is_decimal(t)),
        ("boolean", pat.is_boolean),
        ("string", lambda t: pat.is_string(t) or pat.is_large_string(t) or pat.is_string_view(t)),
        ("datetime", pat.is_temporal),
        ("binary", _is_binary),
        ("list", lambda t: pat.is_list(t) or pat.is_large_list(t) or pat.is_fixed_size_list(t)),
        ("struct", pat.is_struct),
    )
    return next((kind for kind, check in checks if check(arrow_type)), "other")


def describe(schema: pa.Schema) -> list[Column]:
    features = _features(schema)
    return [Column(f.name, str(f.type), kind_of(f.type, features.get(f.name))) for f in schema]
