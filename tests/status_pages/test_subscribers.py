"""Subscribers: e-mail double opt-in and one-click unsubscribe through a real SMTP server (aiosmtpd),
webhook subscribers with signed payloads received by a real HTTP server, no enumeration, rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from email.parser import BytesHeaderParser
from email.policy import compat32
from urllib.parse import urlsplit

from tests.conftest import assert_error
from tests.status_pages.conftest import BASE, PUBLIC, make_page, set_tier, wait_for

LINK = re.compile(r"(http\S+/status/[a-z0-9-]+/(confirm|unsubscribe)\?token=([A-Za-z0-9_.-]+))")


async def _mail(smtp_server, address: str, subject_word: str, count: int = 1):
    async def found():
        mails = [m for m in smtp_server.to(address) if subject_word in m["Subject"]]
        return mails if len(mails) >= count else None

    return (await wait_for(found, timeout=15))[-1]


def _link(message, kind: str) -> tuple[str, str]:
    for url, what, token in LINK.findall(message.get_content()):
        if what == kind:
            return url, token
    raise AssertionError(f"no {kind} link in {message.get_content()!r}")


async def test_email_double_opt_in_updates_and_one_click_unsubscribe(client, alice, smtp_server, db):
    page = await make_page(client, alice, name="Acme status")
    slug, address = page["slug"], f"reader-{uuid.uuid4().hex[:8]}@example.com"
    r = await client.post(f"{PUBLIC}/{slug}/subscribe", json={"email": address})
    assert r.status_code == 202, r.text
    answer = r.json()

    confirm_mail = await _mail(smtp_server, address, "Confirm your subscription to Acme status")
    url, token = _link(confirm_mail, "confirm")
    # An unconfirmed subscriber gets nothing.
    inc = (await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer,
                             json={"title": "Before confirming", "message": "m", "notify": True})).json()

    # The link shows a button (a mail scanner's GET confirms nothing); the button confirms.
    r = await client.get(urlsplit(url).path, params={"token": token})
    assert r.status_code == 200 and "Confirm subscription" in r.text
    subs = (await client.get(f"{BASE}/{page['id']}/subscribers", headers=alice.bearer)).json()
    assert subs["items"][0]["confirmed"] is False
    r = await client.post(f"/status/{slug}/confirm", data={"token": token})
    assert r.status_code == 200 and "Subscribed" in r.text
    subs = (await client.get(f"{BASE}/{page['id']}/subscribers", headers=alice.bearer)).json()
    assert subs["items"][0] == {**subs["items"][0], "kind": "email", "target": address, "confirmed": True}
    assert_error(await client.post(f"{PUBLIC}/{slug}/subscribe/confirm", json={"token": token + "x"}),
                 400, "TOKEN_INVALID")

    # Subscribing again: the same answer, and no second mail.
    r = await client.post(f"{PUBLIC}/{slug}/subscribe", json={"email": address.upper()})
    assert r.status_code == 202 and r.json() == answer

    r = await client.post(f"{BASE}/{page['id']}/incidents/{inc['id']}/updates", headers=alice.bearer,
                          json={"status": "identified", "message": "The cause is a full disk.", "notify": True})
    assert r.status_code == 201, r.text
    update = await _mail(smtp_server, address, "Before confirming: identified")
    assert "The cause is a full disk." in update.get_content()
    assert [m["Subject"] for m in smtp_server.to(address)].count("[Acme status] Before confirming: investigating") == 0
    unsubscribe = update["List-Unsubscribe"]
    assert update["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = unsubscribe.strip("<>")
    assert one_click == _link(update, "unsubscribe")[0]
    # On the wire the header is the bare <URL> (RFC 2369), never RFC 2047 encoded-words ("=?utf-8?q?=3C...").
    raw = BytesHeaderParser(policy=compat32).parsebytes(update.raw_bytes)
    assert raw["List-Unsubscribe"] == f"<{one_click}>"
    assert raw["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = urlsplit(one_click)
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the link.
    r = await client.post(f"{parts.path}?{parts.query}", content=b"List-Unsubscribe=One-Click",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "Unsubscribed" in r.text, r.text
    assert (await client.get(f"{BASE}/{page['id']}/subscribers", headers=alice.bearer)).json()["total"] == 0
    r = await client.post(f"{parts.path}?{parts.query}")
    assert r.status_code == 400

    # The next update reaches nobody.
    before = len(smtp_server.to(address))
    r = await client.post(f"{BASE}/{page['id']}/incidents/{inc['id']}/updates", headers=alice.bearer,
                          json={"status": "resolved", "message": "Fixed.", "notify": True})
    assert r.status_code == 201
    from xinex.status_pages.jobs import notify_subscribers

    await notify_subscribers({"db": db}, update_id=r.json()["updates"][0]["id"], tenant_id=alice.tenant_id)
    assert len(smtp_server.to(address)) == before
    actions = [e["action"] for e in (await client.get("/api/v1/audit-log?action=status_page.subscriber",
                                                      headers=alice.bearer)).json()["items"]]
    assert "status_page.subscriber_confirmed" in actions and "status_page.subscriber_removed" in actions


def _verify(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return expected in headers["webhook-signature"].split(" ")


async def test_webhook_subscriber_gets_signed_payloads_once(client, alice, db, http_target):
    page = await make_page(client, alice)
    slug = page["slug"]
    url = http_target.url(f"/echo?hook={uuid.uuid4().hex}")
    r = await client.post(f"{PUBLIC}/{slug}/subscribe", json={"webhook_url": url})
    assert r.status_code == 202

    def hits():
        return [h for h in http_target.hits if h["path"] == "/echo" and h["method"] == "POST"
                and slug in h["body"].decode()]

    async def arrived(n=1):
        return hits() if len(hits()) >= n else None

    [first] = await wait_for(arrived, timeout=15)
    payload = json.loads(first["body"])
    assert payload["event"] == "subscription.confirm"
    secret = payload["data"]["signing_secret"]
    headers = {k.lower(): v for k, v in first["headers"].items()}
    assert secret.startswith("whsec_") and _verify(secret, headers, first["body"])
    token = payload["data"]["confirm_url"].split("token=")[1]
    r = await client.post(f"{PUBLIC}/{slug}/subscribe/confirm", json={"token": token})
    assert r.status_code == 200, r.text

    inc = (await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer,
                             json={"title": "Queue delays", "message": "Jobs are late.", "notify": True})).json()
    second = (await wait_for(lambda: arrived(2), timeout=15))[1]
    body = json.loads(second["body"])
    assert body["event"] == "incident.update" and body["data"]["incident"]["title"] == "Queue delays"
    assert body["data"]["update"] == {**body["data"]["update"], "status": "investigating", "message": "Jobs are late."}
    assert _verify(secret, {k.lower(): v for k, v in second["headers"].items()}, second["body"])
    # The job is idempotent: running it again sends nothing more.
    from xinex.status_pages.jobs import notify_subscribers

    await notify_subscribers({"db": db}, update_id=inc["updates"][0]["id"], tenant_id=alice.tenant_id)
    assert len(hits()) == 2


async def test_subscribe_answers_the_same_and_is_rate_limited(client, alice, app, db, monkeypatch):
    page = await make_page(client, alice)
    slug = page["slug"]
    assert_error(await client.post(f"{PUBLIC}/{slug}/subscribe", json={}), 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"{PUBLIC}/{slug}/subscribe", json={"email": "x@example.com",
                                                                      "webhook_url": "https://example.com/h"}),
                 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"{PUBLIC}/{slug}/subscribe", json={"email": "not an address"}),
                 422, "VALIDATION_FAILED")
    assert_error(await client.post(f"{PUBLIC}/no-such-page-{uuid.uuid4().hex[:6]}/subscribe",
                                   json={"email": "x@example.com"}), 404, "NOT_FOUND")
    settings = app.state.settings
    # Per page: a high per-IP limit, 3 per hour for the page.
    monkeypatch.setattr(settings, "rate_limit_status_subscribe_ip", "1000/minute")
    monkeypatch.setattr(settings, "rate_limit_status_subscribe_page", "3/hour")
    answers = [await client.post(f"{PUBLIC}/{slug}/subscribe", json={"email": f"r{i}@example.com"}) for i in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert len({a.text for a in answers[:3]}) == 1  # new and repeated addresses get one answer
    assert int(answers[3].headers["retry-after"]) >= 1
    # Per IP: across pages.
    await set_tier(db, alice.tenant_id, "pro")
    other = await make_page(client, alice)
    monkeypatch.setattr(settings, "rate_limit_status_subscribe_page", "1000/hour")
    monkeypatch.setattr(settings, "rate_limit_status_subscribe_ip", "2/minute")
    codes = [(await client.post(f"{PUBLIC}/{p['slug']}/subscribe", json={"email": "a@example.com"})).status_code
             for p in (other, page, other)]
    assert codes == [202, 202, 429]


async def _notes(db, tenant_id: str, update_id: str) -> list:
    from sqlalchemy import select
    from xinex.models.status_pages import StatusPageNotification

    async with db.session(tenant_id=uuid.UUID(tenant_id)) as session:
        return list((await session.execute(select(StatusPageNotification).where(
            StatusPageNotification.update_id == uuid.UUID(update_id)))).scalars().all())


async def test_webhook_deliveries_are_retried_durably_and_410_disables(client, alice, outsider, db, http_target):
    from xinex.status_pages.jobs import RETRY_SCHEDULE_S, dispatch_due

    page = await make_page(client, alice)
    slug = page["slug"]
    http_target.flip_status = 200
    assert (await client.post(f"{PUBLIC}/{slug}/subscribe",
                              json={"webhook_url": http_target.url(f"/flip?hook={uuid.uuid4().hex}")})).status_code == 202

    def hits(event: str):
        return [h for h in http_target.hits if h["path"] == "/flip" and h["method"] == "POST"
                and slug in h["body"].decode() and json.loads(h["body"])["event"] == event]

    async def arrived(event: str, n: int = 1):
        return hits(event) if len(hits(event)) >= n else None

    [first] = await wait_for(lambda: arrived("subscription.confirm"), timeout=15)
    data = json.loads(first["body"])["data"]
    secret, token = data["signing_secret"], data["confirm_url"].split("token=")[1]
    assert (await client.post(f"{PUBLIC}/{slug}/subscribe/confirm", json={"token": token})).status_code == 200

    # The receiver is down: the delivery is kept and retried on the webhooks' schedule.
    http_target.flip_status = 503
    inc = (await client.post(f"{BASE}/{page['id']}/incidents", headers=alice.bearer,
                             json={"title": "Queue delays", "message": "Jobs are late.", "notify": True})).json()
    update_id = inc["updates"][0]["id"]

    async def retrying():
        notes = await _notes(db, alice.tenant_id, update_id)
        return notes if notes and notes[0].status == "retrying" else None

    [note] = await wait_for(retrying, timeout=15)
    assert note.attempts == 1 and note.last_error == "HTTP 503"
    assert 0 < (note.next_attempt_at - note.last_attempt_at).total_seconds() == RETRY_SCHEDULE_S[0]
    assert len(RETRY_SCHEDULE_S) >= 6 and sum(RETRY_SCHEDULE_S) >= 86400  # about a day before giving up
    # Back up: the dispatcher's next pass delivers it, with the same webhook-id and a valid signature.
    http_target.flip_status = 200
    await dispatch_due(db, note.next_attempt_at)

    async def sent():
        notes = await _notes(db, alice.tenant_id, update_id)
        return notes if notes[0].status == "sent" else None

    [note] = await wait_for(sent, timeout=15)
    tries = hits("incident.update")
    assert len(tries) == 2 and note.attempts == 2
    ids = {t["headers"].get("webhook-id") or t["headers"].get("Webhook-Id") for t in tries}
    assert ids == {f"msg_{note.id.hex}"}
    assert tries[0]["body"] == tries[1]["body"]
    assert all(_verify(secret, {k.lower(): v for k, v in t["headers"].items()}, t["body"]) for t in tries)
    await dispatch_due(db)  # nothing is due: nothing more is sent
    assert len(hits("incident.update")) == 2

    # 410 Gone: the subscriber is disabled, and later updates are not sent to it.
    http_target.flip_status = 410
    r = await client.post(f"{BASE}/{page['id']}/incidents/{inc['id']}/updates", headers=alice.bearer,
                          json={"status": "identified", "message": "Found it.", "notify": True})
    second = r.json()["updates"][0]["id"]

    async def failed():
        notes = await _notes(db, alice.tenant_id, second)
        return notes if notes and notes[0].status == "failed" else None

    [note] = await wait_for(failed, timeout=15)
    assert note.attempts == 1 and note.next_attempt_at is None
    subs = (await client.get(f"{BASE}/{page['id']}/subscribers", headers=alice.bearer)).json()["items"]
    assert subs[0]["disabled_reason"] == "the receiver answered 410 Gone"
    assert_error(await client.get(f"{BASE}/{page['id']}/subscribers", headers=outsider.bearer), 404, "NOT_FOUND")
    http_target.flip_status = 200
    r = await client.post(f"{BASE}/{page['id']}/incidents/{inc['id']}/updates", headers=alice.bearer,
                          json={"status": "resolved", "message": "Fixed.", "notify": True})
    from xinex.status_pages.jobs import notify_subscribers

    await notify_subscribers({"db": db}, update_id=r.json()["updates"][0]["id"], tenant_id=alice.tenant_id)
    assert await _notes(db, alice.tenant_id, r.json()["updates"][0]["id"]) == []
    assert len(hits("incident.update")) == 3  # the one answered 410, nothing after
    # Subscribing again starts over with a new confirmation.
    assert (await client.post(f"{PUBLIC}/{slug}/subscribe", json={"webhook_url": subs[0]["target"]})).status_code == 202
    await wait_for(lambda: arrived("subscription.confirm", 2), timeout=15)
    subs = (await client.get(f"{BASE}/{page['id']}/subscribers", headers=alice.bearer)).json()["items"]
    assert subs[0]["disabled_reason"] is None and subs[0]["confirmed"] is False
