"""Every operation of the OpenAPI document can be read without calling it: it has a summary, a description
and tags, and each success answer in JSON shows an example — on the operation's response (copied from the
response model's `json_schema_extra` examples by site/openapi.py, or given by the route for a free-form
answer) — that is valid against the schema the operation documents. A new route without one fails here."""

from __future__ import annotations

import jsonschema_rs

from tests.contract.test_openapi_document import _operations, _spec


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _success_media(op: dict):
    for code, response in op.get("responses", {}).items():
        if str(code).startswith("2"):
            for media_type, media in response.get("content", {}).items():
                if media_type == "application/json" or media_type.endswith("+json"):
                    yield code, media


def _examples(media: dict, spec: dict) -> list:
    found = [e["value"] for e in media.get("examples", {}).values() if "value" in e]
    if "example" in media:
        found.append(media["example"])
    return found + list(_resolve(spec, media.get("schema", {})).get("examples", []))


def _validator(spec: dict, schema: dict):
    return jsonschema_rs.validator_for({**schema, "components": spec["components"]})


async def test_every_operation_has_a_summary_a_description_and_tags(client):
    spec = await _spec(client)
    missing = [f"{name}: {field}" for name, op in _operations(spec) for field in ("summary", "description", "tags")
               if not op.get(field)]
    assert not missing, missing


async def test_every_json_success_response_has_an_example_valid_against_its_schema(client):
    spec = await _spec(client)
    without, invalid, checked = [], [], 0
    for name, op in _operations(spec):
        for code, media in _success_media(op):
            examples = _examples(media, spec)
            if not examples:
                without.append(f"{name} {code}")
                continue
            validator = _validator(spec, media.get("schema", {}))
            for example in examples:
                checked += 1
                invalid += [f"{name} {code}: {error}" for error in validator.iter_errors(example)]
            # The example is on the operation itself, where Swagger UI and generated clients show it.
            assert "example" in media or "examples" in media, f"{name} {code}: example only on the schema"
    assert not without, f"give these a response example (model_config json_schema_extra, or json_example): {without}"
    assert not invalid, invalid
    assert checked >= len(list(_operations(spec))) // 2


async def test_every_component_example_is_valid_against_its_own_schema(client):
    """Also the examples of schemas nested in others, and of request bodies (which test_openapi_document
    checks per operation): a model's example that its own schema refuses documents something the API never
    sends or accepts."""
    spec = await _spec(client)
    invalid, checked = [], 0
    for name, schema in spec["components"]["schemas"].items():
        validator = _validator(spec, schema)
        for example in schema.get("examples", []):
            checked += 1
            invalid += [f"{name}: {error}" for error in validator.iter_errors(example)]
    assert checked > 50
    assert not invalid, invalid


async def test_a_response_example_that_breaks_its_schema_is_caught(client):
    """The check above can fail: an example missing a required field, or with a value of the wrong type."""
    spec = await _spec(client)
    media = spec["paths"]["/api/v1/heartbeats/{heartbeat_id}"]["get"]["responses"]["200"]["content"][
        "application/json"]
    validator = _validator(spec, media["schema"])
    good = media["example"]
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({k: v for k, v in good.items() if k != "status"}))
    assert list(validator.iter_errors({**good, "interval": "hourly"}))
    # A list endpoint's example is a page of its item's example.
    page = spec["paths"]["/api/v1/heartbeats"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert page["items"] == [good] and page["total"] == 1


async def test_non_json_answers_do_not_also_claim_json(client):
    spec = await _spec(client)
    for path, method, media_type in [("/api/v1/schedules/{schedule_id}/ical", "get", "text/calendar"),
                                     ("/api/v1/sso/{tenant_slug}/metadata", "get", "application/samlmetadata+xml")]:
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        assert list(content) == [media_type], (path, list(content))
