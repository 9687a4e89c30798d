"""Outgoing webhooks against a real receiver: Standard Webhooks signatures verified independently,
retries on a controlled clock with the same delivery id, 410 disables, rotation overlap."""

from __future__ import annotations

import uuid
from datetime import timedelta

from xinex.kit.types import utcnow
from xinex.models.webhooks import WebhookDelivery, WebhookSubscription
from xinex.webhooks import dispatcher
from xinex.webhooks.dispatcher import emit_webhook_event

from tests.conftest import assert_error
from tests.notify.receiver import verify_standard_webhook

BASE = "/api/v1/webhooks"


async def make(client, account, url, events=("incident.created",), **extra) -> dict:
    r = await client.post(BASE, json={"url": url, "event_types": list(events), **extra}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def emit(db, app, account, event_type="incident.created", data=None) -> list[WebhookDelivery]:
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as session:
        session.sync_session.info["xinex.job_queue"] = app.state.jobs
        deliveries = await emit_webhook_event(session, uuid.UUID(account.tenant_id), event_type,
                                              data or {"incident_id": str(uuid.uuid4()), "title": "API down"})
    await app.state.jobs.drain()
    return deliveries


async def delivery(db, account, delivery_id) -> WebhookDelivery:
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as session:
        return await session.get(WebhookDelivery, delivery_id)


async def test_crud_secret_shown_once(client, alice, receiver):
    created = await make(client, alice, receiver.url(), events=["incident.created", "monitor.down"],
                         description="pager bridge")
    assert created["secret"].startswith("whsec_") and created["tenant_id"] == alice.tenant_id
    assert created["event_types"] == ["incident.created", "monitor.down"] and created["enabled"] is True
    assert created["created_at"].endswith("Z")
    r = await client.get(f"{BASE}/{created['id']}", headers=alice.bearer)
    assert r.status_code == 200 and "secret" not in r.json() and created["secret"] not in r.text
    listed = (await client.get(BASE, headers=alice.bearer)).json()
    assert {"items", "total", "page", "per_page", "total_pages"} <= set(listed) and created["secret"] not in str(listed)
    r = await client.put(f"{BASE}/{created['id']}", json={"enabled": False, "event_types": ["*"]}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["event_types"] == ["*"]
    r = await client.delete(f"{BASE}/{created['id']}", headers=alice.bearer)
    assert r.status_code == 204
    assert_error(await client.get(f"{BASE}/{created['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_outsider_404_and_validation(client, alice, outsider, receiver):
    hook = await make(client, alice, receiver.url())
    path = f"{BASE}/{hook['id']}"
    for method, sub in [("get", ""), ("put", ""), ("delete", ""), ("post", "/test"), ("post", "/rotate-secret"),
                        ("get", "/deliveries")]:
        kwargs = {"json": {"enabled": False}} if method == "put" else {}
        r = await getattr(client, method)(path + sub, headers=outsider.bearer, **kwargs)
        assert_error(r, 404, "NOT_FOUND")
    assert receiver.requests == []
    for body in [{"url": "ftp://x/y", "event_types": ["monitor.up"]},
                 {"url": receiver.url(), "event_types": ["monitor.sideways"]},
                 {"url": receiver.url(), "event_types": []},
                 {"url": receiver.url(), "event_types": ["monitor.up"], "secret": "mine"}]:
        assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"{path}/rotate-secret", json={"overlap_seconds": -1}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{path}/deliveries?status=lost", headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_event_delivery_signed_and_shaped(client, db, app, alice, outsider, receiver):
    hook = await make(client, alice, receiver.url(), events=["incident.created"])
    other = await make(client, alice, receiver.url("/other"), events=["monitor.up"])
    await make(client, outsider, receiver.url("/outsider"), events=["*"])
    [sent] = await emit(db, app, alice, data={"incident_id": "i-1", "title": "API down"})
    assert sent.webhook_id == uuid.UUID(hook["id"])
    assert [r.path for r in receiver.requests] == ["/hook"]
    got = receiver.requests[0]
    assert verify_standard_webhook(hook["secret"], got) == [True]
    assert abs(int(got.headers["webhook-timestamp"]) - int(utcnow().timestamp())) < 30
    body = got.json()
    assert set(body) == {"event", "delivery_id", "timestamp", "data"}
    assert body["event"] == "incident.created" and body["delivery_id"] == got.headers["webhook-id"] == str(sent.id)
    assert body["data"] == {"incident_id": "i-1", "title": "API down"} and body["timestamp"].endswith("Z")
    assert not verify_standard_webhook(other["secret"], got)[0]  # a different secret does not verify
    r = await client.get(f"{BASE}/{hook['id']}/deliveries", headers=alice.bearer)
    [row] = r.json()["items"]
    assert row["status"] == "succeeded" and row["response_code"] == 200 and row["attempts"] == 1
    assert row["payload"] == body and row["response_excerpt"] == "ok" and row["duration_ms"] is not None


async def test_retries_follow_the_schedule_with_one_delivery_id(client, db, app, alice, receiver):
    hook = await make(client, alice, receiver.url(), events=["*"])
    receiver.default = (500, {}, b"x" * 5000)
    [sent] = await emit(db, app, alice, "monitor.down")
    row = await delivery(db, alice, sent.id)
    assert row.status == "retrying" and row.attempts == 1 and len(row.response_excerpt) <= 1024
    delays = []
    while row.status == "retrying":
        previous = row.last_attempt_at
        due = row.next_attempt_at
        delays.append(int((due - previous).total_seconds()))
        assert await dispatcher.attempt(db, row.id, row.tenant_id, now=due - timedelta(seconds=1)) is None
        await dispatcher.attempt(db, row.id, row.tenant_id, now=due)
        row = await delivery(db, alice, sent.id)
    assert delays == list(dispatcher.RETRY_SCHEDULE_S)
    assert 20 * 3600 < sum(delays) < 48 * 3600  # "over about a day"
    assert row.status == "failed" and row.attempts == dispatcher.MAX_ATTEMPTS and row.next_attempt_at is None
    assert len(receiver.requests) == dispatcher.MAX_ATTEMPTS
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {str(sent.id)}
    assert len({r.body for r in receiver.requests}) == 1
    assert all(verify_standard_webhook(hook["secret"], r) == [True] for r in receiver.requests)


async def test_retry_then_success_via_dispatch_due(client, db, app, alice, receiver):
    await make(client, alice, receiver.url(), events=["heartbeat.missed"])
    receiver.respond((429, {"Retry-After": "600"}, b"later"))
    [sent] = await emit(db, app, alice, "heartbeat.missed")
    row = await delivery(db, alice, sent.id)
    assert row.status == "retrying" and row.next_attempt_at - row.last_attempt_at == timedelta(seconds=600)
    await dispatcher.dispatch_due(db, now=row.next_attempt_at)
    row = await delivery(db, alice, sent.id)
    assert row.status == "succeeded" and row.attempts == 2 and row.delivered_at
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]


async def test_400_is_not_retried_and_410_disables(client, db, app, alice, receiver):
    hook = await make(client, alice, receiver.url(), events=["server.offline"])
    receiver.respond((400, {}, b"bad"))
    [sent] = await emit(db, app, alice, "server.offline")
    row = await delivery(db, alice, sent.id)
    assert row.status == "failed" and row.attempts == 1 and row.next_attempt_at is None

    receiver.respond((410, {}, b"gone"))
    [sent] = await emit(db, app, alice, "server.offline")
    assert (await delivery(db, alice, sent.id)).status == "failed"
    r = await client.get(f"{BASE}/{hook['id']}", headers=alice.bearer)
    assert r.json()["enabled"] is False and "410" in r.json()["disabled_reason"]
    assert await emit(db, app, alice, "server.offline") == []  # disabled: no new deliveries
    assert len(receiver.requests) == 2
    r = await client.put(f"{BASE}/{hook['id']}", json={"enabled": True}, headers=alice.bearer)
    assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None


async def test_rotation_signs_with_both_secrets_during_overlap(client, db, app, alice, receiver):
    hook = await make(client, alice, receiver.url(), events=["incident.resolved"])
    r = await client.post(f"{BASE}/{hook['id']}/rotate-secret", json={"overlap_seconds": 3600}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    new_secret = r.json()["secret"]
    assert new_secret != hook["secret"] and r.json()["previous_secret_expires_at"]
    await emit(db, app, alice, "incident.resolved")
    got = receiver.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verify_standard_webhook(new_secret, got) == [True, False]
    assert verify_standard_webhook(hook["secret"], got) == [False, True]

    # After the overlap only the new secret signs.
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as session:
        sub = await session.get(WebhookSubscription, uuid.UUID(hook["id"]))
        sub.previous_secret_expires_at = utcnow() - timedelta(seconds=1)
    await emit(db, app, alice, "incident.resolved")
    assert verify_standard_webhook(new_secret, receiver.requests[-1]) == [True]
    r = await client.get(f"{BASE}/{hook['id']}", headers=alice.bearer)
    assert r.json()["previous_secret_expires_at"] is None


async def test_test_endpoint_and_disabled_flag(client, db, app, alice, receiver):
    hook = await make(client, alice, receiver.url(), events=["certificate.expiring"], enabled=False)
    r = await client.post(f"{BASE}/{hook['id']}/test", headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "succeeded" and r.json()["is_test"] is True
    assert receiver.requests[-1].json()["event"] == "webhook.test"
    assert verify_standard_webhook(hook["secret"], receiver.requests[-1]) == [True]
    assert await emit(db, app, alice, "certificate.expiring") == []  # disabled, not deleted
    r = await client.get(f"{BASE}/{hook['id']}/deliveries", headers=alice.bearer)
    assert r.json()["total"] == 1
