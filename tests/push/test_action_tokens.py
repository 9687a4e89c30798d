"""Acknowledge / Resolve from the notification: the action tokens a push carries work once, for their
own incident and action only, and for nothing else."""

from __future__ import annotations

import uuid
from datetime import timedelta

from xinex.identity import action_tokens
from xinex.kit.types import utcnow

from tests.conftest import assert_error
from tests.push.helpers import ios_token, jwt_headers, open_incident, page_user, register, signed_in_phone
from tests.tenancy.helpers import join


async def paged_tokens(app, client, mobile, db, account, apns) -> tuple[object, dict]:
    ios = ios_token()
    assert (await register(client, jwt_headers(await signed_in_phone(mobile, account)), ios, "ios")).status_code == 201
    incident = await open_incident(db, account.tenant_id)
    await page_user(app, db, incident, account.user_id)
    [request] = apns.delivered(ios)
    return incident, request.json()["xinex"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_ack_from_the_notification_works_once(app, client, mobile, db, alice, apns, fcm):
    incident, payload = await paged_tokens(app, client, mobile, db, alice, apns)
    assert payload["ack_url"].endswith(f"/api/v1/incidents/{incident.id}/ack")
    r = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(payload["ack_token"]))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged"
    replay = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(payload["ack_token"]))
    assert "already used" in assert_error(replay, 400, "TOKEN_INVALID")["error"]
    # The audit trail names the user the token acted for.
    log = await client.get("/api/v1/audit-log", params={"action": "incident.acknowledged"}, headers=alice.bearer)
    assert log.status_code == 200 and any(e["actor_user_id"] == alice.user_id for e in log.json()["items"])
    # Resolve's own token still works.
    r = await client.post(f"/api/v1/incidents/{incident.id}/resolve", headers=bearer(payload["resolve_token"]))
    assert r.status_code == 200 and r.json()["status"] == "resolved"


async def test_a_token_does_only_its_own_action_on_its_own_incident(app, client, mobile, db, alice, outsider,
                                                                    apns, fcm):
    incident, payload = await paged_tokens(app, client, mobile, db, alice, apns)
    other = await open_incident(db, alice.tenant_id)
    ack, resolve = bearer(payload["ack_token"]), bearer(payload["resolve_token"])
    assert_error(await client.post(f"/api/v1/incidents/{incident.id}/resolve", headers=ack), 400, "TOKEN_INVALID")
    assert_error(await client.post(f"/api/v1/incidents/{other.id}/ack", headers=ack), 400, "TOKEN_INVALID")
    assert_error(await client.post(f"/api/v1/incidents/{other.id}/resolve", headers=resolve), 400, "TOKEN_INVALID")
    # Anywhere else it is no credential at all.
    for method, path in [("GET", "/api/v1/me"), ("GET", "/api/v1/incidents"), ("GET", f"/api/v1/incidents/{incident.id}"),
                         ("POST", "/api/v1/silence"), ("GET", "/api/v1/push-tokens")]:
        r = await client.request(method, path, headers=ack, json={} if method == "POST" else None)
        assert_error(r, 401, "UNAUTHENTICATED")
    # A tampered token is refused; the outsider's incident id with alice's token too.
    tampered = payload["ack_token"][:-3] + ("AAA" if not payload["ack_token"].endswith("AAA") else "BBB")
    assert_error(await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(tampered)), 400,
                 "TOKEN_INVALID")
    foreign = await open_incident(db, outsider.tenant_id)
    assert_error(await client.post(f"/api/v1/incidents/{foreign.id}/ack", headers=ack), 400, "TOKEN_INVALID")
    # The tokens were not spent by any of that: the real action still works.
    r = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=ack)
    assert r.status_code == 200, r.text


async def test_an_expired_token_or_one_of_a_removed_member_is_refused(app, client, smtp_server, signup, db, alice):
    incident = await open_incident(db, alice.tenant_id)
    expired = action_tokens.issue(user_id=uuid.UUID(alice.user_id), tenant_id=uuid.UUID(alice.tenant_id),
                                  incident_id=incident.id, action="ack", ttl_s=60,
                                  now=utcnow() - timedelta(minutes=5))
    r = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(expired))
    assert "expired" in assert_error(r, 400, "TOKEN_INVALID")["error"]
    viewer = await join(app, client, smtp_server, signup, alice, role="viewer")
    token = action_tokens.issue(user_id=uuid.UUID(viewer.user_id), tenant_id=uuid.UUID(alice.tenant_id),
                                incident_id=incident.id, action="ack")
    assert_error(await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(token)), 403, "FORBIDDEN")


async def test_a_token_issued_before_a_disable_stays_dead_after_enable(app, client, smtp_server, signup, db, alice,
                                                                       settings):
    """security.md: disabling ends every credential, enabling restores sign-in only."""
    from xinex.auth.account_status import set_disabled

    incident = await open_incident(db, alice.tenant_id)
    member = await join(app, client, smtp_server, signup, alice)
    before = action_tokens.issue(user_id=uuid.UUID(member.user_id), tenant_id=uuid.UUID(alice.tenant_id),
                                 incident_id=incident.id, action="ack", now=utcnow() - timedelta(seconds=2))
    await set_disabled(db, member.email, True, reason="lost phone")
    assert_error(await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(before)), 403, "FORBIDDEN")
    await set_disabled(db, member.email, False)
    r = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(before))
    assert "before its user was disabled" in assert_error(r, 403, "FORBIDDEN")["error"]
    # One issued after the enable works.
    after = action_tokens.issue(user_id=uuid.UUID(member.user_id), tenant_id=uuid.UUID(alice.tenant_id),
                                incident_id=incident.id, action="ack", now=utcnow() + timedelta(seconds=1))
    r = await client.post(f"/api/v1/incidents/{incident.id}/ack", headers=bearer(after))
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
