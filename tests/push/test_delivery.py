"""Pages to phones through local APNs and FCM over real HTTP/2 + TLS (tests/push/fakes.py): once per
device, dead tokens removed, 429 retried alone, quiet hours, provider credentials and headers checked."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import jwt
from xinex.kit.types import utcnow
from xinex.notify.jobs import retry_due
from xinex.notify.send import NotificationMessage, send_to_user

from tests.push.helpers import (
    android_token,
    attempts,
    device_rows,
    ios_token,
    jwt_headers,
    open_incident,
    page_user,
    register,
    signed_in_phone,
)


async def two_phones(client, mobile, account, **ios_extra) -> tuple[str, str]:
    headers = jwt_headers(await signed_in_phone(mobile, account))
    ios, android = ios_token(), android_token()
    assert (await register(client, headers, ios, "ios", **ios_extra)).status_code == 201
    assert (await register(client, headers, android, "android", device_name="Pixel")).status_code == 201
    return ios, android


async def test_an_incident_pages_each_device_exactly_once(app, client, mobile, db, settings, alice, apns, fcm):
    ios, android = await two_phones(client, mobile, alice, critical_alerts=True, apns_environment="sandbox")
    incident = await open_incident(db, alice.tenant_id)
    page_id, outcome = await page_user(app, db, incident, alice.user_id)
    assert outcome == "sent"
    # A re-run of the job and a second send of the same page reach nobody again.
    from xinex.oncall import paging

    assert await paging.deliver_page({"db": db, "settings": settings}, page_id=str(page_id)) == "not-claimed"
    [ios_request] = apns.delivered(ios)
    [android_request] = fcm.delivered(android)
    assert len(apns.requests) == 1 and len([r for r in fcm.requests if r.path.endswith(":send")]) == 1

    # APNs: token auth (ES256 provider JWT of our key id and team), the headers Apple requires, sandbox.
    h = ios_request.headers
    provider = jwt.decode(h["authorization"].removeprefix("bearer "), apns.public_key, algorithms=["ES256"])
    assert jwt.get_unverified_header(h["authorization"].removeprefix("bearer "))["kid"] == apns.key_id
    assert provider["iss"] == apns.team_id and time.time() - provider["iat"] < 60
    assert h["apns-push-type"] == "alert" and h["apns-priority"] == "10" and h["apns-topic"] == apns.topic
    assert h["apns-collapse-id"] == str(incident.id)
    assert time.time() < int(h["apns-expiration"]) <= time.time() + settings.push_action_ttl_s + 5
    assert apns.environment(ios_request) == "sandbox"
    body = ios_request.json()
    assert body["aps"]["interruption-level"] == "critical" and body["aps"]["sound"]["critical"] == 1
    xinex = body["xinex"]
    assert xinex["incident_id"] == str(incident.id) and "checkout api is down" in xinex["title"]
    assert xinex["service"] == "checkout" and xinex["urgency"] == "high"
    assert xinex["ack_token"].startswith("xpa_") and xinex["resolve_token"].startswith("xpa_")

    # FCM: an access token from the JWT bearer grant, Android priority high, the same facts as data.
    assert fcm.grants >= 1
    assert android_request.headers["authorization"].removeprefix("Bearer ") in fcm.access_tokens
    message = android_request.json()["message"]
    assert message["token"] == android and message["android"]["priority"] == "HIGH"
    assert message["android"]["collapse_key"] == str(incident.id)
    data = message["data"]
    assert data["incident_id"] == str(incident.id) and data["service"] == "checkout" and data["urgency"] == "high"
    assert all(isinstance(v, str) for v in data.values()) and data["ack_token"].startswith("xpa_")

    # The ledger: one row per device, each delivered once, plus the user's push row.
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    devices = {d.token: d.id for d in await device_rows(db, alice.tenant_id)}
    assert rows[f"push:{devices[ios]}"].status == "succeeded" and rows[f"push:{devices[android]}"].status == "succeeded"
    assert rows[f"user:{alice.user_id}:push"].status == "succeeded"
    assert rows[f"push:{devices[ios]}"].attempts == 1
    # APNs sees the ledger row's id as apns-id: the same on every retry of this delivery.
    assert h["apns-id"] == str(rows[f"push:{devices[ios]}"].id)


async def test_non_critical_page_is_time_sensitive_and_without_critical_alert(app, client, mobile, db, settings, alice,
                                                                              apns, fcm):
    ios, _ = await two_phones(client, mobile, alice, critical_alerts=False)
    incident = await open_incident(db, alice.tenant_id)
    await page_user(app, db, incident, alice.user_id)
    [request] = apns.delivered(ios)
    assert request.json()["aps"]["interruption-level"] == "time-sensitive"  # the user did not allow critical
    assert apns.environment(request) == "production"


async def test_unregistered_and_bad_tokens_are_removed_and_never_logged(app, client, mobile, db, settings, alice,
                                                                        apns, fcm):
    ios, android = await two_phones(client, mobile, alice)
    apns.script(ios, "unregistered")
    fcm.script(android, "unregistered")
    incident = await open_incident(db, alice.tenant_id)
    page_id, _ = await page_user(app, db, incident, alice.user_id)
    assert await device_rows(db, alice.tenant_id) == []
    rows = await attempts(db, alice.tenant_id, str(page_id))
    device_attempts = [r for r in rows if r.target.startswith("push:")]
    assert {r.status for r in device_attempts} == {"failed"}
    assert any("410 Unregistered" in r.error for r in device_attempts)
    assert any("UNREGISTERED" in r.error for r in device_attempts)
    log = await client.get("/api/v1/notification-log", params={"incident_id": str(incident.id)},
                           headers=alice.bearer)
    assert log.status_code == 200 and log.json()["total"] >= 3
    assert ios not in log.text and android not in log.text
    # Each device's attempt says which phone it was for, after its token is gone: platform, name, token end.
    by_platform = {i["device"]["platform"]: i for i in log.json()["items"] if i["kind"] == "push" and i["device"]}
    assert by_platform["ios"]["device"]["token_end"] == ios[-6:] and "410" in by_platform["ios"]["error"]
    assert by_platform["android"]["device"]["token_end"] == android[-6:]
    assert by_platform["android"]["device"]["name"] == "Pixel"
    assert {i["device"]["id"] for i in by_platform.values()} == {r.target.removeprefix("push:") for r in device_attempts}
    assert len([i for i in log.json()["items"] if i["kind"] == "push" and i["device"] is None]) == 1  # the user's

    # BadDeviceToken / INVALID_ARGUMENT remove the token too.
    ios, android = await two_phones(client, mobile, alice)
    apns.script(ios, "bad_token")
    fcm.script(android, "bad_token")
    await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    assert await device_rows(db, alice.tenant_id) == []


async def test_fcm_invalid_argument_about_the_message_keeps_the_token(app, client, mobile, db, settings, alice,
                                                                      apns, fcm):
    """FCM answers INVALID_ARGUMENT for a message it refuses too (a bad ttl, a value too large): only one whose
    field violations name message.token unregisters the device."""
    headers = jwt_headers(await signed_in_phone(mobile, alice))
    android = android_token()
    assert (await register(client, headers, android, "android")).status_code == 201
    fcm.script(android, "bad_payload")
    page_id, outcome = await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    assert [d.token for d in await device_rows(db, alice.tenant_id)] == [android]
    [row] = [r for r in await attempts(db, alice.tenant_id, str(page_id)) if r.target.startswith("push:")]
    assert row.status == "failed" and row.response_code == 400 and row.attempts == 1  # failed, not retried
    assert "INVALID_ARGUMENT" in row.error and "message.android.ttl" in row.error and android not in row.error
    assert len(fcm.delivered(android)) == 0


async def test_429_then_success_delivers_once_and_only_to_that_device(app, client, mobile, db, settings, alice, apns,
                                                                      fcm):
    ios, android = await two_phones(client, mobile, alice)
    apns.script(ios, "429")
    incident = await open_incident(db, alice.tenant_id)
    page_id, outcome = await page_user(app, db, incident, alice.user_id)
    assert outcome == "sent"  # the Android phone got it
    devices = {d.token: d.id for d in await device_rows(db, alice.tenant_id)}
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    waiting = rows[f"push:{devices[ios]}"]
    assert waiting.status == "retrying" and waiting.response_code == 429 and waiting.next_attempt_at is not None
    assert apns.delivered(ios) == []
    # The retrier takes the due row (later: with our own clock) and delivers it, once.
    await retry_due(db, now=utcnow() + timedelta(minutes=20))
    await retry_due(db, now=utcnow() + timedelta(minutes=40))
    assert len(apns.delivered(ios)) == 1 and len(apns.requests) == 2
    assert len(fcm.delivered(android)) == 1
    assert {r.headers["apns-id"] for r in apns.requests} == {str(waiting.id)}
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    assert rows[f"push:{devices[ios]}"].status == "succeeded" and rows[f"push:{devices[ios]}"].attempts == 2


async def test_5xx_on_the_only_device_keeps_the_page_in_flight_until_it_is_delivered(app, client, mobile, db, settings,
                                                                                     alice, apns, fcm):
    headers = jwt_headers(await signed_in_phone(mobile, alice))
    ios = ios_token()
    assert (await register(client, headers, ios, "ios")).status_code == 201
    apns.script(ios, "503")
    incident = await open_incident(db, alice.tenant_id)
    page_id, _ = await page_user(app, db, incident, alice.user_id)
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    assert rows[f"user:{alice.user_id}:push"].status == "retrying"
    await retry_due(db, now=utcnow() + timedelta(hours=2))
    await retry_due(db, now=utcnow() + timedelta(hours=4))
    assert len(apns.delivered(ios)) == 1
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    assert rows[f"user:{alice.user_id}:push"].status == "succeeded"


async def test_quiet_hours_suppress_a_low_urgency_push_but_not_a_critical_one(app, client, mobile, db, alice, apns, fcm):
    ios, android = await two_phones(client, mobile, alice)
    now = utcnow()
    quiet = {"enabled": True, "timezone": "UTC", "start": (now - timedelta(hours=1)).strftime("%H:%M"),
             "end": (now + timedelta(hours=1)).strftime("%H:%M")}
    r = await client.put("/api/v1/users/me/notification-prefs", headers=alice.bearer, json={
        "rules": {"warning": ["push", "feed"]}, "quiet_hours": quiet})
    assert r.status_code == 200, r.text
    tenant_id, user_id = uuid.UUID(alice.tenant_id), uuid.UUID(alice.user_id)

    def message(severity: str) -> NotificationMessage:
        return NotificationMessage(tenant_id=tenant_id, event="incident.triggered", title="disk 91% full",
                                   body="", severity=severity, incident_id=uuid.uuid4(), url="http://x/i",
                                   dedup_key=str(uuid.uuid4()), service="db")

    low = message("warning")
    async with db.session(tenant_id=tenant_id) as s:
        await send_to_user(s, user_id, low)
    assert apns.requests == [] and fcm.delivered() == []
    [row] = [r for r in await attempts(db, alice.tenant_id, low.dedup_key) if r.kind == "push"]
    assert row.status == "suppressed"
    critical = message("critical")
    async with db.session(tenant_id=tenant_id) as s:
        await send_to_user(s, user_id, critical)
    assert len(apns.delivered(ios)) == 1 and len(fcm.delivered(android)) == 1


async def test_a_user_without_push_in_their_preferences_gets_no_push(app, client, mobile, db, alice, apns, fcm):
    await two_phones(client, mobile, alice)
    r = await client.put("/api/v1/users/me/notification-prefs", headers=alice.bearer,
                         json={"rules": {"critical": ["email", "feed"]}})
    assert r.status_code == 200, r.text
    msg = NotificationMessage(tenant_id=uuid.UUID(alice.tenant_id), event="incident.triggered", title="down",
                              body="", severity="critical", incident_id=uuid.uuid4(), url="http://x/i",
                              dedup_key=str(uuid.uuid4()))
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        await send_to_user(s, uuid.UUID(alice.user_id), msg)
    assert apns.requests == [] and fcm.requests == []


async def test_a_signed_out_phone_is_not_paged(app, client, mobile, db, settings, alice, apns, fcm):
    tokens = await mobile.sign_in(alice)
    ios = ios_token()
    assert (await register(client, jwt_headers(tokens["access_token"]), ios, "ios")).status_code == 201
    r = await mobile.http.post("/oauth/revoke", data={"token": tokens["refresh_token"], "client_id": mobile.client_id})
    assert r.status_code == 200
    await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    assert apns.requests == []


async def test_a_push_channel_reaches_its_users_devices(client, mobile, alice, apns, fcm):
    ios, android = await two_phones(client, mobile, alice)
    r = await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
        "name": "phones", "kind": "push", "config": {"user_ids": [alice.user_id]}})
    assert r.status_code == 201, r.text
    r = await client.post(f"/api/v1/notification-channels/{r.json()['id']}/test", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert len(apns.delivered(ios)) == 1 and len(fcm.delivered(android)) == 1
    # A test message has no incident to act on: no action tokens, normal urgency.
    xinex = apns.delivered(ios)[0].json()["xinex"]
    assert "ack_token" not in xinex and xinex["urgency"] == "normal"


async def test_a_refused_provider_credential_is_renewed_and_the_push_retried(app, client, mobile, db, alice, apns,
                                                                             fcm):
    from xinex.push import apns as apns_client
    from xinex.push import fcm as fcm_client

    ios, android = await two_phones(client, mobile, alice)
    apns.script(ios, "expired_provider_token")
    fcm.script(android, "unauthenticated")
    grants = fcm.grants
    page_id, _ = await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    assert apns_client.PROVIDER_TOKEN._value is None and fcm_client.ACCESS_TOKEN._value is None  # both dropped
    devices = {d.token: d.id for d in await device_rows(db, alice.tenant_id)}
    rows = {r.target: r for r in await attempts(db, alice.tenant_id, str(page_id))}
    assert rows[f"push:{devices[ios]}"].status == "retrying" and rows[f"push:{devices[ios]}"].response_code == 403
    assert rows[f"push:{devices[android]}"].status == "retrying" and rows[f"push:{devices[android]}"].response_code == 401
    await retry_due(db, now=utcnow() + timedelta(minutes=20))
    assert len(apns.delivered(ios)) == 1 and len(fcm.delivered(android)) == 1
    assert fcm.grants > grants  # a new access token was minted for the retry


async def test_provider_connections_stay_open_between_pages(app, client, mobile, db, settings, alice, apns, fcm):
    """One pooled HTTP/2 connection per provider and process, kept across idle spells longer than an HTTP
    client's usual keep-alive (5 s): Apple asks providers not to connect per notification."""
    import asyncio

    ios, android = await two_phones(client, mobile, alice)
    await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    opened = (apns.connections, fcm.connections)
    await asyncio.sleep(6)
    await page_user(app, db, await open_incident(db, alice.tenant_id), alice.user_id)
    assert len(apns.delivered(ios)) == 2 and len(fcm.delivered(android)) == 2
    assert (apns.connections, fcm.connections) == opened
