"""Probes: registration and prober tokens, the probe-facing API, `xinex probe` rounds, and the
quorum rule (`failing * 2 >= regions`) with its below-quorum advisory."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select
from xinex.models.outbox import OutboxEvent
from xinex.monitors.probe_agent import run_probe

from tests.conftest import assert_error
from tests.monitors.conftest import set_tier


async def make_probe(client, account, region: str, name: str | None = None) -> dict:
    r = await client.post("/api/v1/probes", json={"name": name or f"probe-{region}-{uuid.uuid4().hex[:6]}",
                                                  "region": region}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


def probe_headers(probe: dict) -> dict:
    return {"Authorization": f"Bearer {probe['token']}"}


async def test_probe_registration(client, signup, outsider):
    account = await signup()
    p = await make_probe(client, account, "eu-west", name="frankfurt")
    assert p["token"].startswith("xinex_probe_") and len(p["token"]) == len("xinex_probe_") + 64
    assert p["tenant_id"] == account.tenant_id and p["region"] == "eu-west" and p["created_at"].endswith("Z")
    r = await client.get(f"/api/v1/probes/{p['id']}", headers=account.bearer)
    assert r.status_code == 200 and "token" not in r.json() and r.json()["token_prefix"] == p["token"][:18]
    listing = (await client.get("/api/v1/probes", headers=account.bearer)).json()
    assert listing["total"] == 1 and "token" not in listing["items"][0]
    assert_error(await client.post("/api/v1/probes", json={"name": "frankfurt", "region": "eu-west"},
                                   headers=account.bearer), 409, "CONFLICT")
    for body in ({"name": "x", "region": "EU West"}, {"name": "", "region": "eu"}, {"region": "eu"},
                 {"name": "x", "region": "eu", "extra": 1}):
        assert_error(await client.post("/api/v1/probes", json=body, headers=account.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"/api/v1/probes/{p['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(f"/api/v1/probes/{p['id']}", headers=outsider.bearer), 404, "NOT_FOUND")
    limited = await signup(scopes=["monitors:write"])
    assert_error(await client.post("/api/v1/probes", json={"name": "x", "region": "eu"}, headers=limited.bearer),
                 403, "FORBIDDEN")
    # The token works until the probe is deleted.
    assert (await client.get("/api/v1/probe/assignments", headers=probe_headers(p))).status_code == 200
    assert (await client.delete(f"/api/v1/probes/{p['id']}", headers=account.bearer)).status_code == 204
    assert_error(await client.get("/api/v1/probe/assignments", headers=probe_headers(p)), 401, "UNAUTHENTICATED")


async def test_probe_api_needs_a_prober_token(client, alice):
    assert_error(await client.get("/api/v1/probe/assignments"), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/probe/assignments", headers=alice.bearer), 401, "UNAUTHENTICATED")
    assert_error(await client.get("/api/v1/probe/assignments",
                                  headers={"Authorization": "Bearer xinex_probe_" + "0" * 64}), 401, "UNAUTHENTICATED")


async def test_prober_token_resolves_to_a_prober_principal_only_on_the_probe_api(app, client, signup, db):
    """The one credential resolver knows prober tokens: on the probe-facing API it gives the `Principal` of kind
    prober (no user, the probe's id, the probe's tenant); everywhere else the token is refused like any
    malformed API token, whether sent as a bearer token or as X-API-Key."""
    from starlette.requests import Request
    from xinex.identity.credentials import resolve_principal
    from xinex.identity.principal import NO_USER

    account = await signup()
    p = await make_probe(client, account, "eu-2")
    scope = {"type": "http", "method": "GET", "path": "/", "headers": [
        (b"authorization", f"Bearer {p['token']}".encode())], "app": app}
    async with db.session() as session:
        principal = await resolve_principal(session, Request(scope), prober=True)
    assert principal.kind == "prober" and principal.user_id == NO_USER and principal.role is None
    assert str(principal.credential_id) == p["id"] and str(principal.tenant_id) == account.tenant_id
    assert principal.allows("probes", write=True) and not principal.allows("monitors", write=False)
    for headers in (probe_headers(p), {"X-API-Key": p["token"]}):
        for path in ("/api/v1/monitors", "/api/v1/me", "/api/v1/probes"):
            r = await client.get(path, headers=headers)
            assert_error(r, 401, "UNAUTHENTICATED")
            assert r.json()["error"] == "Invalid API token"


async def test_xinex_probe_round_runs_assignments(app, client, signup, tcp_listener):
    account = await signup()
    p = await make_probe(client, account, "eu-1")
    r = await client.post("/api/v1/monitors", headers=account.bearer, json={
        "name": "db via probe", "type": "tcp", "host": "127.0.0.1", "port": tcp_listener, "regions": ["eu-1"]})
    assert r.status_code == 201, r.text
    m = r.json()
    assert m["next_check_at"] is None  # remote probes run it, not the platform scheduler
    ran = await run_probe("http://testserver", p["token"], once=True, transport=httpx.ASGITransport(app=app))
    assert ran == 1
    status = (await client.get(f"/api/v1/monitors/{m['id']}/status", headers=account.bearer)).json()
    assert status["status"] == "up"
    assert [(x["region"], x["result"]) for x in status["regions"]] == [("eu-1", "up")]
    # Claimed: a second round right away finds nothing due.
    assert await run_probe("http://testserver", p["token"], once=True, transport=httpx.ASGITransport(app=app)) == 0
    checks = (await client.get(f"/api/v1/monitors/{m['id']}/checks", headers=account.bearer)).json()
    assert checks["total"] == 1 and checks["items"][0]["region"] == "eu-1"
    probe = (await client.get(f"/api/v1/probes/{p['id']}", headers=account.bearer)).json()
    assert probe["last_seen_at"] is not None


def result(monitor_id: str, status: str, **kw) -> dict:
    return {"monitor_id": monitor_id, "check_id": str(uuid.uuid4()), "status": status, "latency_ms": 12.5,
            "checked_at": datetime.now(UTC).isoformat(), "status_code": None, "error": "" if status == "up" else "x",
            "reason": "ok" if status == "up" else "connect_failed", **kw}


async def monitor_events(db, m: dict) -> list[str]:
    async with db.session(tenant_id=uuid.UUID(m["tenant_id"])) as session:
        rows = await session.execute(select(OutboxEvent.event_type).where(OutboxEvent.source_id == uuid.UUID(m["id"]))
                                     .order_by(OutboxEvent.created_at))
        return list(rows.scalars().all())


@pytest.fixture
async def three_regions(client, signup, db, tcp_listener):
    account = await signup()
    probes = {region: await make_probe(client, account, region) for region in ("eu", "us", "ap")}
    body = {"name": "global api", "type": "tcp", "host": "127.0.0.1", "port": tcp_listener,
            "regions": ["eu", "us", "ap"]}
    free_err = await client.post("/api/v1/monitors", headers=account.bearer, json=body)
    await set_tier(db, account.tenant_id, "pro")
    r = await client.post("/api/v1/monitors", headers=account.bearer, json=body)
    assert r.status_code == 201, r.text
    return account, probes, r.json(), free_err


async def test_quorum(client, db, three_regions):
    account, probes, m, free_err = three_regions
    assert_error(free_err, 403, "FEATURE_NOT_IN_TIER")  # several regions need the pro plan

    async def post(region: str, status: str, **kw) -> dict:
        r = await client.post("/api/v1/probe/results", headers=probe_headers(probes[region]),
                              json={"results": [result(m["id"], status, **kw)]})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]

    async def state() -> dict:
        return (await client.get(f"/api/v1/monitors/{m['id']}/status", headers=account.bearer)).json()

    for region in ("eu", "us", "ap"):
        await post(region, "up")
    assert (await state())["status"] == "up"
    await post("eu", "down")
    s = await state()
    assert s["status"] == "up"  # 1 of 3 failing: below quorum
    assert [(a["code"], a["regions"]) for a in s["advisories"]] == [("region_failing_below_quorum", ["eu"])]
    assert "below the quorum" in s["advisories"][0]["message"]
    assert await monitor_events(db, m) == []
    duplicate = result(m["id"], "down")
    first = await client.post("/api/v1/probe/results", headers=probe_headers(probes["us"]),
                              json={"results": [duplicate]})
    assert first.json()["results"][0]["status"] == "down"  # 2 of 3: 2*2 >= 3
    again = await client.post("/api/v1/probe/results", headers=probe_headers(probes["us"]),
                              json={"results": [duplicate]})
    assert again.json()["results"][0]["duplicate"] is True
    s = await state()
    assert s["status"] == "down" and s["advisories"] == []
    await post("ap", "down")
    assert await monitor_events(db, m) == ["monitor.down"]
    await post("eu", "up")
    assert (await state())["status"] == "down"  # us and ap still failing
    await post("us", "up")
    s = await state()
    assert s["status"] == "up" and [a["regions"] for a in s["advisories"]] == [["ap"]]
    assert await monitor_events(db, m) == ["monitor.down", "monitor.up"]
    async with db.session(tenant_id=uuid.UUID(m["tenant_id"])) as session:
        down = (await session.execute(select(OutboxEvent).where(OutboxEvent.source_id == uuid.UUID(m["id"]),
                                                                OutboxEvent.event_type == "monitor.down"))).scalar_one()
        assert down.payload["failing_regions"] == ["eu", "us"] and down.payload["reason"] == "quorum_failing"


async def test_results_are_checked_against_the_probe(client, signup, db, three_regions, tcp_listener):
    account, probes, m, _ = three_regions
    stranger = await signup()
    other = await make_probe(client, stranger, "eu")
    assert_error(await client.post("/api/v1/probe/results", headers=probe_headers(other),
                                   json={"results": [result(m["id"], "down")]}), 404, "NOT_FOUND")
    # A region the monitor is not checked in.
    extra = await make_probe(client, account, "sa")
    assert_error(await client.post("/api/v1/probe/results", headers=probe_headers(extra),
                                   json={"results": [result(m["id"], "down")]}), 404, "NOT_FOUND")
    for bad in ({"results": []}, {"results": [result(m["id"], "sideways")]},
                {"results": [{**result(m["id"], "up"), "latency_ms": -1}]}, {"nope": 1}):
        assert_error(await client.post("/api/v1/probe/results", headers=probe_headers(probes["eu"]), json=bad),
                     422, "VALIDATION_FAILED")
    # Deleting a region's only probe leaves an advisory on the monitor.
    assert (await client.delete(f"/api/v1/probes/{probes['ap']['id']}", headers=account.bearer)).status_code == 204
    s = (await client.get(f"/api/v1/monitors/{m['id']}/status", headers=account.bearer)).json()
    assert ("no_probe_in_region", ["ap"]) in [(a["code"], a["regions"]) for a in s["advisories"]]
