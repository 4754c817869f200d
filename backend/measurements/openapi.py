"""The upload routes read their body themselves (item by item); this puts its schema back into the OpenAPI."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from backend.measurements.schemas import UploadIn

_KEYS = {
    "anyOf": "any_of",
    "maxItems": "max_items",
    "minItems": "min_items",
    "maxLength": "max_length",
    "minLength": "min_length",
    "additionalProperties": "additional_properties",
}


def _to_schema(node: dict[str, Any], definitions: dict[str, Any]) -> Schema:
    """msgspec's JSON Schema (with its `$defs` inlined) as Litestar's OpenAPI Schema objects."""
    if "$ref" in node:
        return _to_schema(definitions[re.sub(r"^#/\$defs/", "", node["$ref"])], definitions)
    fields: dict[str, Any] = {}
    for key, value in node.items():
        name = _KEYS.get(key, key)
        if name == "type":
            fields["type"] = OpenAPIType(value)
        elif name == "properties":
            fields["properties"] = {prop: _to_schema(sub, definitions) for prop, sub in value.items()}
        elif name == "items":
            fields["items"] = _to_schema(value, definitions)
        elif name == "any_of":
            fields["any_of"] = [_to_schema(sub, definitions) for sub in value]
        else:
            fields[name] = value
    return Schema(**fields)


def _upload_body() -> RequestBody:
    document = msgspec.json.schema(UploadIn)
    schema = _to_schema(document, document["$defs"])
    return RequestBody(content={"application/json": OpenAPIMediaType(schema=schema)}, required=True)


@dataclasses.dataclass
class UploadOperation(Operation):
    """An Operation whose request body is the measurement upload (`{"items": [...]}`)."""

    def __post_init__(self) -> None:
        self.request_body = _upload_body()
