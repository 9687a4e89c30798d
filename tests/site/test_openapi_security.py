"""The OpenAPI document says which credentials each operation takes, and the server agrees with it."""

from __future__ import annotations

import re

USER_SCHEMES = {"apiToken", "apiKeyHeader", "mobileJWT", "sessionCookie"}


async def _spec(client) -> dict:
    r = await client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


async def test_security_schemes_are_declared(client):
    spec = await _spec(client)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"]["in"] == "header" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    assert schemes["mobileJWT"]["bearerFormat"] == "JWT"
    assert schemes["sessionCookie"]["in"] == "cookie" and schemes["sessionCookie"]["name"].endswith("xinex_session")
    hb = spec["paths"]["/api/v1/heartbeats"]
    assert {next(iter(r)) for r in hb["post"]["security"]} == USER_SCHEMES
    assert "heartbeats:write" in hb["post"]["description"] and "heartbeats:read" in hb["get"]["description"]
    assert spec["paths"]["/ping/{ping_id}"]["get"]["security"] == []
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []


async def test_declared_security_matches_what_the_server_enforces(client, alice):
    """Every parameterless GET: one that declares credentials answers 401 without them and 200 with
    alice's token (its documented success, if its scopes allow); one declared public answers without credentials."""
    spec = await _spec(client)
    checked = 0
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op is None or "{" in path or path.startswith(("/api/v1/auth/oauth/", "/api/v1/sso/", "/oauth/", "/api/v1/oauth/")):
            continue
        if any(p.get("required") for p in op.get("parameters", [])):
            continue
        anonymous = await client.get(path)
        if op["security"] == [{"proberToken": []}]:
            assert anonymous.status_code == 401 and (await client.get(path, headers=alice.bearer)).status_code == 401
        elif op["security"]:
            assert anonymous.status_code == 401, (path, anonymous.status_code, anonymous.text[:200])
            authed = await client.get(path, headers=alice.bearer)
            # Its documented success (200; 202 for GET /account/export, which starts an export) or 403.
            documented = {int(code) for code in op["responses"] if code.startswith("2")}
            assert authed.status_code in documented | {403}, (path, authed.status_code, authed.text[:200])
        else:
            assert anonymous.status_code != 401, path
        checked += 1
    assert checked > 30
    assert not re.search(r"cdn|jsdelivr|unpkg", str(spec))
