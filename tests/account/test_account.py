"""The account surface: data export (async, signed download for the requester, credentials left out),
onboarding steps derived from real state, and the public brand settings."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from urllib.parse import parse_qs, urlparse

from sqlalchemy import update

from tests.conftest import assert_error


async def _export(client, account, app) -> dict:
    r = await client.get("/api/v1/account/export", headers=account.bearer)
    assert r.status_code == 202, r.text
    await app.state.jobs.drain()
    r = await client.get(r.json()["status_url"], headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


async def test_export_holds_the_tenants_data_without_credentials(client, alice, outsider, signup, app, db):
    h = alice.bearer
    r = await client.post("/api/v1/heartbeats", headers=h, json={"name": "nightly backup", "interval": 86400})
    assert r.status_code == 201
    r = await client.post("/api/v1/monitors", headers=h, json={
        "type": "http", "name": "api", "url": "http://127.0.0.1:9/health",
        "headers": {"Authorization": "Bearer s3cr3t-monitor-header", "X-Trace": "keep-me"}})
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/notification-channels", headers=h, json={
        "name": "hook", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hooks/s3cr3t-path"}})
    assert r.status_code == 201, r.text
    await client.post("/api/v1/heartbeats", headers=outsider.bearer, json={"name": "outsider job"})

    started = await client.get("/api/v1/account/export", headers=h)
    assert started.status_code == 202 and started.json()["status"] == "pending" and started.json()["download_url"] is None
    done = await _export(client, alice, app)
    assert done["status"] == "ready" and done["size_bytes"] > 0 and done["expires_at"] > done["finished_at"]
    link = done["download_url"]
    r = await client.get(link, headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = set(archive.namelist())
    assert {"manifest.json", "tenant.json", "members.json", "heartbeats.json", "monitors.json", "notify.json"} <= names
    text = b"".join(archive.read(n) for n in names).decode()
    heartbeats = json.loads(archive.read("heartbeats.json"))["heartbeats"]
    assert [hb["name"] for hb in heartbeats] == ["nightly backup"]
    assert "outsider job" not in text and outsider.tenant_id not in text
    assert "s3cr3t" not in text and "token_hash" not in text and "password_hash" not in text
    monitor = json.loads(archive.read("monitors.json"))["monitors"][0]
    assert monitor["config"]["headers"] == {"Authorization": "[redacted]", "X-Trace": "keep-me"}
    assert json.loads(archive.read("members.json"))[0]["email"] == alice.email
    assert json.loads(archive.read("tenant.json"))["id"] == alice.tenant_id

    # The link is the requester's: a forged signature, the outsider, and after expiry: refused.
    query = parse_qs(urlparse(link).query)
    forged = link.replace(query["signature"][0], "0" * 64)
    assert_error(await client.get(forged, headers=h), 403, "FORBIDDEN")
    assert_error(await client.get(link.replace(query["signature"][0], "\u00e9"), headers=h), 422, "VALIDATION_FAILED")
    assert_error(await client.get(link, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get(done["status_url"], headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.get(link), 401, "UNAUTHENTICATED")
    from xinex.models.account import AccountExport

    async with db.session(system="test: expire") as s:
        await s.execute(update(AccountExport).where(AccountExport.id == uuid.UUID(done["id"]))
                        .values(expires_at=AccountExport.created_at))
    assert_error(await client.get(link, headers=h), 404, "NOT_FOUND")
    actions = [e["action"] for e in (await client.get("/api/v1/audit-log?action=account.", headers=h)).json()["items"]]
    assert actions.count("account.export_requested") == 2 and actions.count("account.export_downloaded") == 1


async def test_export_is_for_owners_and_admins(client, signup, db):
    from xinex.models.tenant import Membership

    member = await signup()
    async with db.session(system="test: demote") as s:
        await s.execute(update(Membership).where(Membership.user_id == uuid.UUID(member.user_id)).values(role="member"))
    assert_error(await client.get("/api/v1/account/export", headers=member.bearer), 403, "FORBIDDEN")


async def test_onboarding_follows_real_state_and_manual_completion(client, alice, outsider):
    h = alice.bearer
    r = await client.get("/api/v1/onboarding", headers=h)
    assert r.status_code == 200, r.text
    steps = {s["key"]: s for s in r.json()["steps"]}
    assert set(steps) == {"first_check", "notification_channel", "invite_teammate", "first_alert", "send_telemetry"}
    assert not steps["first_check"]["done"] and r.json()["total"] == 5
    await client.post("/api/v1/heartbeats", headers=h, json={"name": "job"})
    r = await client.post("/api/v1/invitations", headers=h, json={"email": "teammate@example.com", "role": "member"})
    assert r.status_code in (200, 201, 202), r.text
    steps = {s["key"]: s for s in (await client.get("/api/v1/onboarding", headers=h)).json()["steps"]}
    assert steps["first_check"]["how"] == "derived" and steps["invite_teammate"]["done"]
    r = await client.post("/api/v1/onboarding/send_telemetry/complete", headers=h)
    assert r.status_code == 200, r.text
    step = {s["key"]: s for s in r.json()["steps"]}["send_telemetry"]
    assert (step["done"], step["how"]) == (True, "manual") and step["completed_at"]
    assert (await client.post("/api/v1/onboarding/send_telemetry/complete", headers=h)).status_code == 200
    assert_error(await client.post("/api/v1/onboarding/no_such_step/complete", headers=h), 404, "NOT_FOUND")
    other = {s["key"]: s for s in (await client.get("/api/v1/onboarding", headers=outsider.bearer)).json()["steps"]}
    assert not other["send_telemetry"]["done"] and not other["first_check"]["done"]


async def test_brand_settings_are_public(client, settings, monkeypatch):
    monkeypatch.setattr(settings, "brand_name", "Acme Monitoring")
    monkeypatch.setattr(settings, "brand_support_email", "help@acme.example")
    r = await client.get("/api/v1/public/brand-settings")
    assert r.status_code == 200
    assert r.json() == {"name": "Acme Monitoring", "logo_url": None, "primary_color": "#4f46e5",
                        "accent_color": "#0ea5e9", "support_email": "help@acme.example"}
