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


def json_example(example: Any, status: int = 200, description: str | None = None) -> dict[int | str, Any]:
    """`responses` entry documenting an example of a JSON answer whose shape has no response model (a free-form
    object built by the route, or a standard's document such as RFC 8414 metadata). Where a route has a response
    model, the example belongs on the model instead (`model_config` `json_schema_extra`)."""
    entry: dict[str, Any] = {"content": {"application/json": {"example": example}}}
    if description:
        entry["description"] = description
    return {status: entry}


def declared_examples(model: Any) -> list[Any]:
    """The examples a pydantic model declares for its JSON schema: its own `json_schema_extra` examples, or for
    an unparametrised-with-examples list page (`kit.pagination.Page[T]`) the page built from T's."""
    extra = model.model_config.get("json_schema_extra") if hasattr(model, "model_config") else None
    if isinstance(extra, dict) and isinstance(extra.get("examples"), list):
        return list(extra["examples"])
    page_examples = getattr(model, "page_examples", None)
    return list(page_examples()) if callable(page_examples) else []
