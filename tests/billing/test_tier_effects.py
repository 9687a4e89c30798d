"""What a tier change does to existing objects (billing/enforcement.py), driven through the operator's
set-tier (the same path Stripe's events take): pausing over the limit, pings and manual resumes that
do not undo it, an upgrade resuming exactly those, SSO enforcement suspended and restored."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from tests.conftest import assert_error

HB = "/api/v1/heartbeats"


async def _set(db, account, tier: str) -> None:
    from xinex.billing.service import set_tier_by_operator

    async with db.session(system="test: operator set-tier") as s:
        await set_tier_by_operator(s, account.tenant_id, tier)


async def _heartbeats(client, account) -> dict[str, dict]:
    r = await client.get(f"{HB}?per_page=100", headers=account.bearer)
    assert r.status_code == 200, r.text
    return {h["name"]: h for h in r.json()["items"]}


async def test_heartbeats_over_the_limit_stay_paused_until_there_is_room(client, alice, outsider, db):
    await _set(db, alice, "pro")
    for i in range(12):
        r = await client.post(HB, headers=alice.bearer, json={"name": f"job-{i:02d}", "interval": 3600})
        assert r.status_code == 201, r.text
    await _set(db, alice, "free")
    listed = await _heartbeats(client, alice)
    held = sorted(n for n, h in listed.items() if h["paused_reason"] == "tier_limit")
    assert held == ["job-10", "job-11"] and all(listed[n]["status"] == "paused" for n in held)

    # A success ping is kept but does not resume it (a paused heartbeat of a person's would resume).
    ping = listed["job-11"]["ping_url"].split("/ping/", 1)[1]
    r = await client.post(f"/ping/{ping}", content=b"ok")
    assert r.status_code == 200, r.text
    after = (await _heartbeats(client, alice))["job-11"]
    assert (after["status"], after["paused_reason"], after["n_pings"]) == ("paused", "tier_limit", 1)

    # Resuming by hand is refused while the plan is full; room made, it is allowed.
    r = await client.post(f"{HB}/{listed['job-11']['id']}/resume", headers=alice.bearer)
    assert assert_error(r, 403, "TIER_LIMIT_EXCEEDED")["details"]["tier_limit"] == 10
    assert_error(await client.post(f"{HB}/{listed['job-11']['id']}/resume", headers=outsider.bearer), 404, "NOT_FOUND")
    assert (await client.delete(f"{HB}/{listed['job-00']['id']}", headers=alice.bearer)).status_code == 204
    r = await client.post(f"{HB}/{listed['job-11']['id']}/resume", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "new" and r.json()["paused_reason"] is None, r.text

    # The upgrade resumes the rest of what the downgrade paused.
    await _set(db, alice, "pro")
    listed = await _heartbeats(client, alice)
    assert not [n for n, h in listed.items() if h["status"] == "paused"]
    r = await client.get("/api/v1/audit-log?action=tier.changed", headers=alice.bearer)
    latest = r.json()["items"][0]["details"]
    assert [h["name"] for h in latest["resumed_heartbeats"]] == ["job-10"] and latest["reason"] == "operator"


async def test_monitor_resume_is_refused_over_the_limit(client, alice, db):
    await _set(db, alice, "pro")
    ids = []
    for i in range(11):
        r = await client.post("/api/v1/monitors", headers=alice.bearer,
                              json={"type": "tcp", "name": f"m{i}", "host": "127.0.0.1", "port": 5432, "interval": 60})
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    await _set(db, alice, "free")
    r = await client.get(f"/api/v1/monitors/{ids[-1]}", headers=alice.bearer)
    assert (r.json()["paused_reason"], r.json()["interval"]) == ("tier_limit", 300)
    assert_error(await client.post(f"/api/v1/monitors/{ids[-1]}/resume", headers=alice.bearer), 403,
                 "TIER_LIMIT_EXCEEDED")
    # Setting the same tier again changes nothing (idempotent).
    await _set(db, alice, "free")
    r = await client.get("/api/v1/audit-log?action=tier.changed", headers=alice.bearer)
    assert r.json()["total"] == 2


async def test_an_upgrade_counts_only_the_tenants_own_monitors(client, alice, outsider, db):
    """Tier changes run in a system scope (the operator's, Stripe's events): resuming what a downgrade paused
    counts the tenant's own running monitors against its new limit, never every tenant's."""
    async def add(account, n: int, prefix: str) -> list[str]:
        made = []
        for i in range(n):
            r = await client.post("/api/v1/monitors", headers=account.bearer, json={
                "type": "tcp", "name": f"{prefix}{i}", "host": "127.0.0.1", "port": 5432, "interval": 300})
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
        return made

    await _set(db, outsider, "team")
    await add(outsider, 45, "other-")  # running elsewhere: with alice's 10, past pro's 50 if counted together
    await _set(db, alice, "pro")
    ids = await add(alice, 11, "m")
    await _set(db, alice, "free")
    assert (await client.get(f"/api/v1/monitors/{ids[-1]}", headers=alice.bearer)).json()["paused_reason"] == "tier_limit"
    await _set(db, alice, "pro")
    r = await client.get(f"/api/v1/monitors/{ids[-1]}", headers=alice.bearer)
    assert (r.json()["paused"], r.json()["paused_reason"]) == (False, None), r.text
    assert_error(await client.get(f"/api/v1/monitors/{ids[-1]}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_sso_enforcement_is_suspended_below_enterprise_and_restored(client, alice, db):
    from xinex.models.tenant import Tenant

    await _set(db, alice, "enterprise")
    async with db.session(system="test: enforce sso") as s:
        await s.execute(update(Tenant).where(Tenant.id == uuid.UUID(alice.tenant_id)).values(sso_enforced=True))
    await _set(db, alice, "team")
    async with db.session(system="test: read") as s:
        assert (await s.get(Tenant, uuid.UUID(alice.tenant_id))).sso_enforced is False
    await _set(db, alice, "enterprise")
    async with db.session(system="test: read") as s:
        assert (await s.get(Tenant, uuid.UUID(alice.tenant_id))).sso_enforced is True
    from sqlalchemy import select
    from xinex.models.audit import AuditEvent

    async with db.session(system="test: read audit") as s:
        rows = (await s.execute(select(AuditEvent).where(AuditEvent.tenant_id == uuid.UUID(alice.tenant_id),
                                                         AuditEvent.action == "tier.changed")
                                .order_by(AuditEvent.created_at))).scalars().all()
    assert [r.details.get("sso_enforcement") for r in rows] == [None, "suspended", "restored"]


async def test_multi_region_monitors_pause_without_probes_in_the_plan(client, alice, db):
    await _set(db, alice, "pro")
    for region in ("eu-west", "us-east"):
        r = await client.post("/api/v1/probes", headers=alice.bearer, json={"name": f"p-{region}", "region": region})
        assert r.status_code == 201, r.text
    r = await client.post("/api/v1/monitors", headers=alice.bearer, json={
        "type": "tcp", "name": "global", "host": "127.0.0.1", "port": 22, "interval": 300,
        "regions": ["eu-west", "us-east"]})
    assert r.status_code == 201, r.text
    monitor = r.json()["id"]
    await _set(db, alice, "free")
    m = (await client.get(f"/api/v1/monitors/{monitor}", headers=alice.bearer)).json()
    assert (m["paused"], m["paused_reason"], m["regions"]) == (True, "tier_feature", ["eu-west", "us-east"])
    assert_error(await client.post(f"/api/v1/monitors/{monitor}/resume", headers=alice.bearer), 403,
                 "FEATURE_NOT_IN_TIER")
    await _set(db, alice, "team")
    m = (await client.get(f"/api/v1/monitors/{monitor}", headers=alice.bearer)).json()
    assert (m["paused"], m["paused_reason"]) == (False, None)
