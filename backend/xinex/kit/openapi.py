"""Helpers for routes to document themselves in the OpenAPI document (assembled by site/openapi.py)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

TYPED_BODY = "x-xinex-typed-body"


def typed_body(shape: Any, examples: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that validates its JSON body itself (to name fields its own way,
    e.g. a monitor's flat body or a channel's per-kind `config`): documents `shape` (a pydantic model,
    union or annotated type) as the request body, with named `examples` ({name: body}).
    `build_openapi` moves the shape's definitions into components."""
    schema = TypeAdapter(shape).json_schema(ref_template="#/components/schemas/{model}")
    return {TYPED_BODY: {"schema": schema,
                         "examples": {name: {"value": value} for name, value in examples.items()}}}
