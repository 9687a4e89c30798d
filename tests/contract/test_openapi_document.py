"""The OpenAPI document is complete enough to use without reading the source: every operation says what
it does, every JSON request body comes with examples that are themselves valid against its schema, and
the bodies the server validates by hand (monitors, channel configs) are typed unions, not free-form."""

from __future__ import annotations

import jsonschema_rs

METHODS = ("get", "post", "put", "patch", "delete")


async def _spec(client) -> dict:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def _own_description(op: dict) -> str:
    """The description without the scope note site/openapi.py appends."""
    return "\n\n".join(p for p in op.get("description", "").split("\n\n") if not p.startswith("Scope `")).strip()


def _examples(media: dict, spec: dict) -> list:
    found = [e["value"] for e in media.get("examples", {}).values()]
    if "example" in media:
        found.append(media["example"])
    schema = media.get("schema", {})
    for option in [schema, *schema.get("anyOf", [])]:  # an optional body is anyOf [model, null]
        if "$ref" in option:
            found += spec["components"]["schemas"][option["$ref"].rsplit("/", 1)[1]].get("examples", [])
    return found + list(schema.get("examples", []))


async def test_every_operation_says_what_it_does(client):
    spec = await _spec(client)
    missing = sorted(name for name, op in _operations(spec) if not _own_description(op))
    assert not missing, f"give these routes a docstring (what it does for the user, what its errors mean): {missing}"


async def test_every_json_request_body_has_examples_that_match_its_schema(client):
    spec = await _spec(client)
    without, invalid = [], []
    for name, op in _operations(spec):
        media = op.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        examples = _examples(media, spec)
        if not examples:
            without.append(name)
            continue
        validator = jsonschema_rs.validator_for({**media["schema"], "components": spec["components"]})
        invalid += [f"{name}: {e}" for example in examples for e in validator.iter_errors(example)]
    assert not without, without
    assert not invalid, invalid


async def test_monitor_and_channel_bodies_are_discriminated_unions(client):
    spec = await _spec(client)
    monitor = spec["paths"]["/api/v1/monitors"]["post"]["requestBody"]["content"]["application/json"]
    assert monitor["schema"]["discriminator"]["propertyName"] == "type"
    assert set(monitor["schema"]["discriminator"]["mapping"]) == {"http", "tcp", "dns", "tls"}
    assert set(monitor["examples"]) == {"http", "tcp", "dns", "tls"}
    schemas = spec["components"]["schemas"]
    assert schemas["TcpMonitorIn"]["required"] == ["name", "type", "host", "port"]
    channel = spec["paths"]["/api/v1/notification-channels"]["post"]["requestBody"]["content"]["application/json"]
    assert channel["schema"]["discriminator"]["propertyName"] == "kind"
    assert set(channel["schema"]["discriminator"]["mapping"]) == {"slack", "discord", "teams", "webhook", "email",
                                                                  "push"}
    webhook = schemas["WebhookChannelCreate"]["properties"]["config"]
    assert webhook == {"$ref": "#/components/schemas/WebhookConfig"}
    assert schemas["WebhookConfig"]["required"] == ["url"]
    assert schemas["EmailConfig"]["properties"]["addresses"]["maxItems"] == 50


async def test_the_documented_examples_are_what_the_server_accepts(client, alice):
    """The typed bodies are documentation of validation done elsewhere: a body valid against the
    document is accepted, and one the document refuses is refused, naming the same field."""
    h = alice.bearer
    r = await client.post("/api/v1/monitors", headers=h, json={
        "type": "tcp", "name": "db", "host": "127.0.0.1", "port": 5432, "interval": 300})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/monitors", headers=h, json={"type": "tcp", "name": "db", "host": "127.0.0.1"})
    assert r.status_code == 422 and "port" in r.json()["details"]["fields"], r.text
    r = await client.post("/api/v1/notification-channels", headers=h, json={
        "name": "ops", "kind": "email", "config": {"addresses": ["ops@example.com"]}, "default": False})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/notification-channels", headers=h, json={
        "name": "ops", "kind": "email", "config": {"addresses": []}})
    assert r.status_code == 422 and "config.addresses" in r.json()["details"]["fields"], r.text


# Operations whose documented examples stand on their own (no ids of other objects, no outbound
# address that must resolve, no plan above free): each example is sent as is and must be accepted.
SELF_CONTAINED = [("post", "/api/v1/api-tokens"), ("post", "/api/v1/heartbeats"),
                  ("post", "/api/v1/silence"), ("post", "/api/v1/annotations"), ("post", "/api/v1/probes"),
                  ("put", "/api/v1/users/me/notification-prefs"), ("post", "/api/v1/heartbeat/start")]


async def test_self_contained_examples_are_accepted_by_the_server(client, alice):
    spec = await _spec(client)
    for method, path in SELF_CONTAINED:
        media = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        examples = _examples(media, spec)
        assert examples, path
        for example in examples:
            r = await client.request(method.upper(), path, headers=alice.bearer, json=example)
            assert r.status_code in (200, 201), f"{method} {path} {example}: {r.status_code} {r.text}"
