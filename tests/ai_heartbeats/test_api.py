"""AI heartbeats: CRUD contract, tier gating, run lifecycle, validation, outsider 404."""

from __future__ import annotations

import asyncio
import uuid

from xinex.ai_heartbeats.jobs import export_events

from tests.conftest import assert_error

BASE = "/api/v1/ai-heartbeats"


async def test_free_tier_is_refused(client, alice):
    r = await client.post(BASE, json={"name": "agent"}, headers=alice.bearer)
    body = assert_error(r, 403, "FEATURE_NOT_IN_TIER")
    assert body["details"]["required_tier"] == "pro"


async def test_crud_contract_and_outsider(client, pro, make_ai):
    alice, outsider = await pro(), await pro()
    hb = await make_ai(alice, interval=3600, grace=600, tags=["llm"],
                       budgets={"max_failure_rate": 0.2, "min_runs": 3, "max_cost_per_day_usd": 5})
    assert hb["tenant_id"] == alice.tenant_id and hb["status"] == "new" and hb["schedule"] == "simple"
    assert hb["budgets"]["max_failure_rate"] == 0.2 and hb["budgets"]["window_s"] == 3600
    assert hb["created_at"].endswith("Z")
    page = (await client.get(BASE, headers=alice.bearer)).json()
    assert page["total"] == 1 and page["page"] == 1 and page["items"][0]["id"] == hb["id"]
    assert (await client.get(BASE, headers=outsider.bearer)).json()["total"] == 0

    url = f"{BASE}/{hb['id']}"
    r = await client.get(url, headers=alice.bearer)
    etag = r.headers["ETag"]
    body = {"name": "agent v2", "cron": "*/5 * * * *", "timezone": "Europe/Berlin"}
    r = await client.put(url, json=body, headers={**alice.bearer, "If-Match": etag})
    assert r.status_code == 200 and r.json()["schedule"] == "cron" and r.json()["name"] == "agent v2"
    assert_error(await client.put(url, json=body, headers={**alice.bearer, "If-Match": etag}), 412,
                 "PRECONDITION_FAILED")

    event = {"event": "start", "run_id": "r1"}
    for method, path, kw in (("get", url, {}), ("put", url, {"json": body}), ("delete", url, {}),
                             ("post", url + "/run", {"json": event}), ("get", url + "/runs", {}),
                             ("get", url + "/summary", {}), ("get", url + "/runs/r1/events", {})):
        assert_error(await getattr(client, method)(path, headers=outsider.bearer, **kw), 404, "NOT_FOUND")
    assert_error(await client.get(f"{BASE}/{uuid.uuid4()}", headers=alice.bearer), 404, "NOT_FOUND")
    r = await client.delete(url, headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(url, headers=alice.bearer), 404, "NOT_FOUND")


async def test_validation_errors(client, pro, make_ai, send):
    alice = await pro()
    for body in ({"name": ""}, {"name": "a", "interval": 10}, {"name": "a", "cron": "nope"},
                 {"name": "a", "interval": 3600, "cron": "0 * * * *"}, {"name": "a", "timezone": "Nowhere/City"},
                 {"name": "a", "budgets": {"max_failure_rate": 1.5}}, {"name": "a", "budgets": {"bogus": 1}}):
        assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
    hb = await make_ai(alice)
    for event in ({"event": "finish"}, {"event": "end", "run_id": "r"},  # outcome missing
                  {"event": "start", "outcome": "success"}, {"event": "step"},  # step without run id
                  {"event": "end", "outcome": "maybe", "run_id": "r"}, {"event": "start", "run_id": "bad id!"},
                  {"event": "end", "outcome": "success", "cost_usd": -1},
                  {"event": "end", "outcome": "success", "input_tokens": -5}):
        assert_error(await send(alice, hb, **event), 422, "VALIDATION_FAILED")


async def test_run_lifecycle_and_history(client, db, pro, make_ai, send):
    alice = await pro()
    hb = await make_ai(alice, interval=3600)
    r = await send(alice, hb, event="start", run_id="run-1", model="gpt-x", metadata={"job": "summarise"})
    assert r.status_code == 201, r.text
    assert r.json()["run"]["outcome"] == "running" and r.json()["status"] == "ok"
    assert_error(await send(alice, hb, event="start", run_id="run-1"), 409, "CONFLICT")
    r = await send(alice, hb, event="step", run_id="run-1", step_name="retrieve", input_tokens=100,
                   output_tokens=10, cost_usd=0.01)
    assert r.json()["run"]["steps"] == 1
    r = await send(alice, hb, event="end", run_id="run-1", outcome="success", input_tokens=50, output_tokens=40,
                   cost_usd=0.02, latency_ms=1234.5)
    run = r.json()["run"]
    assert run["outcome"] == "success" and run["input_tokens"] == 150 and run["output_tokens"] == 50
    assert abs(run["cost_usd"] - 0.03) < 1e-9 and run["latency_ms"] == 1234.5 and run["ended_at"].endswith("Z")
    assert_error(await send(alice, hb, event="end", run_id="run-1", outcome="success"), 409, "CONFLICT")
    # A lone end event reports a whole run; a start without run id gets one.
    r = await send(alice, hb, event="end", outcome="error", error="rate limited", latency_ms=200)
    assert r.json()["run"]["outcome"] == "error" and r.json()["run"]["error"] == "rate limited"
    r = await send(alice, hb, event="start")
    assert len(r.json()["run"]["run_id"]) == 32

    runs = (await client.get(f"{BASE}/{hb['id']}/runs", headers=alice.bearer)).json()
    assert runs["total"] == 3 and runs["per_page"] == 25
    s = (await client.get(f"{BASE}/{hb['id']}/summary", headers=alice.bearer)).json()
    assert s["runs"] == 2 and s["failures"] == 1 and s["failure_rate"] == 0.5 and s["running"] == 1
    assert abs(s["cost_today_usd"] - 0.03) < 1e-9 and s["p95_latency_ms"] == 1234.5
    detail = (await client.get(f"{BASE}/{hb['id']}", headers=alice.bearer)).json()
    assert detail["n_runs"] == 3 and detail["late_at"] is not None

    # The event history lands in the time-series store after commit.
    for _ in range(100):
        await export_events(db, tenant_id=uuid.UUID(alice.tenant_id))
        r = await client.get(f"{BASE}/{hb['id']}/runs/run-1/events", headers=alice.bearer)
        if r.status_code == 200 and r.json()["total"] == 3:
            break
        await asyncio.sleep(0.05)
    items = r.json()["items"]
    assert [i["event"] for i in items] == ["start", "step", "end"]
    assert items[0]["metadata"] == {"job": "summarise"} and items[1]["step_name"] == "retrieve"
    assert items[2]["outcome"] == "success" and items[2]["latency_ms"] == 1234.5
    assert_error(await client.get(f"{BASE}/{hb['id']}/runs/nope/events", headers=alice.bearer), 404, "NOT_FOUND")


async def test_shares_the_heartbeat_allowance(client, db, pro, make_ai):
    from tests.tiers.helpers import set_tier

    alice = await pro()
    await set_tier(db, alice.tenant_id, "pro")
    for i in range(3):
        r = await client.post("/api/v1/heartbeats", json={"name": f"hb {i}"}, headers=alice.bearer)
        assert r.status_code == 201
    from xinex.tiers import catalog

    limit = catalog.TIERS[catalog.Tier.pro].heartbeats
    original = catalog.TIERS[catalog.Tier.pro]
    import dataclasses

    catalog.TIERS[catalog.Tier.pro] = dataclasses.replace(original, heartbeats=4)
    try:
        await make_ai(alice)
        body = assert_error(await client.post(BASE, json={"name": "one too many"}, headers=alice.bearer), 403,
                            "TIER_LIMIT_EXCEEDED")
        assert body["details"]["current_count"] == 4 and body["details"]["tier_limit"] == 4
    finally:
        catalog.TIERS[catalog.Tier.pro] = original
    assert catalog.TIERS[catalog.Tier.pro].heartbeats == limit
