"""Notification channels API: CRUD per kind, masking, test sends to real peers, log, isolation."""

from __future__ import annotations

import uuid

from tests.conftest import assert_error

BASE = "/api/v1/notification-channels"


async def make(client, account, kind: str, config: dict, name: str | None = None) -> dict:
    r = await client.post(BASE, json={"name": name or f"{kind} {uuid.uuid4().hex[:6]}", "kind": kind,
                                      "config": config}, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def test_crud_masks_the_slack_webhook_url(client, alice, receiver):
    secret_url = receiver.url("/services/T000/B000/XXXXSECRETXXXX")
    created = await make(client, alice, "slack", {"webhook_url": secret_url, "username": "xinex"})
    assert created["kind"] == "slack" and created["tenant_id"] == alice.tenant_id
    for key in ("id", "created_at", "updated_at"):
        assert created[key]
    assert created["created_at"].endswith("Z")
    assert "XXXXSECRETXXXX" not in str(created)
    assert created["config"]["webhook_url"].startswith(f"http://127.0.0.1:{receiver.port}/****")

    r = await client.get(f"{BASE}/{created['id']}", headers=alice.bearer)
    assert r.status_code == 200 and "SECRET" not in r.text and r.headers["etag"]
    listed = (await client.get(BASE, headers=alice.bearer)).json()
    assert {"items", "total", "page", "per_page", "total_pages"} <= set(listed)
    assert created["id"] in [c["id"] for c in listed["items"]] and "SECRET" not in str(listed)

    # Sending the masked value back keeps the stored URL: the test still reaches the real path.
    r = await client.put(f"{BASE}/{created['id']}", json={"name": "renamed", "config": created["config"]},
                         headers=alice.bearer)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "renamed"
    r = await client.post(f"{BASE}/{created['id']}/test", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["status"] == "succeeded", r.text
    assert receiver.requests[-1].path == "/services/T000/B000/XXXXSECRETXXXX"

    r = await client.delete(f"{BASE}/{created['id']}", headers=alice.bearer)
    assert r.status_code == 204 and r.content == b""
    assert_error(await client.get(f"{BASE}/{created['id']}", headers=alice.bearer), 404, "NOT_FOUND")


async def test_outsider_gets_404_everywhere(client, alice, outsider, receiver):
    ch = await make(client, alice, "discord", {"webhook_url": receiver.url()})
    path = f"{BASE}/{ch['id']}"
    assert_error(await client.get(path, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.put(path, json={"name": "x"}, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.delete(path, headers=outsider.bearer), 404, "NOT_FOUND")
    assert_error(await client.post(f"{path}/test", headers=outsider.bearer), 404, "NOT_FOUND")
    assert receiver.requests == []
    assert ch["id"] not in str((await client.get(BASE, headers=outsider.bearer)).json())
    await client.post(f"{path}/test", headers=alice.bearer)
    log = (await client.get("/api/v1/notification-log", headers=outsider.bearer)).json()
    assert all(item["channel_id"] != ch["id"] for item in log["items"])


async def test_bad_input_is_validation_failed(client, alice, outsider):
    cases = [
        {"name": "x", "kind": "pager", "config": {}},
        {"name": "x", "kind": "slack", "config": {}},
        {"name": "x", "kind": "slack", "config": {"webhook_url": "ftp://example.com/x"}},
        {"name": "x", "kind": "slack", "config": {"webhook_url": "https://u:p@example.com/x"}},
        {"name": "x", "kind": "slack", "config": {"webhook_url": "https://example.com/x", "bogus": 1}},
        {"name": "", "kind": "email", "config": {"addresses": ["a@example.com"]}},
        {"name": "x", "kind": "email", "config": {"addresses": ["not-an-address"]}},
        {"name": "x", "kind": "teams", "config": {"webhook_url": "https://example.com/x", "format": "xml"}},
        {"name": "x", "kind": "webhook", "config": {"url": "https://example.com/x", "headers": {"Host": "evil"}}},
        {"name": "x", "kind": "webhook", "config": {"url": "https://example.com/x", "secret": "whsec_!!"}},
        {"name": "x", "kind": "push", "config": {"user_ids": [outsider.user_id]}},
        {"name": "x", "kind": "push", "config": {"user_ids": ["nope"]}},
    ]
    for body in cases:
        body_out = assert_error(await client.post(BASE, json=body, headers=alice.bearer), 422, "VALIDATION_FAILED")
        assert body_out["details"]["fields"], body
    assert_error(await client.get(f"{BASE}/not-a-uuid", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get("/api/v1/notification-log?status=bogus", headers=alice.bearer), 422,
                 "VALIDATION_FAILED")


async def test_slack_payload_shape(client, alice, receiver):
    ch = await make(client, alice, "slack", {"webhook_url": receiver.url("/slack")})
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["response_code"] == 200
    body = receiver.requests[-1].json()
    assert isinstance(body["text"], str) and "Test notification" in body["text"]
    assert body["blocks"][0]["type"] == "header"
    assert any(b["type"] == "actions" and b["elements"][0]["url"].startswith("http") for b in body["blocks"])
    assert receiver.requests[-1].headers["content-type"] == "application/json"


async def test_discord_payload_shape(client, alice, receiver):
    ch = await make(client, alice, "discord", {"webhook_url": receiver.url("/discord")})
    await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    body = receiver.requests[-1].json()
    assert "Test notification" in body["content"]
    embed = body["embeds"][0]
    assert embed["title"] and isinstance(embed["color"], int) and {f["name"] for f in embed["fields"]} >= {"Severity"}
    assert body["allowed_mentions"] == {"parse": []}


async def test_teams_message_card_and_adaptive_card(client, alice, receiver):
    card = await make(client, alice, "teams", {"webhook_url": receiver.url("/teams")})
    assert card["config"]["format"] == "messagecard"
    await client.post(f"{BASE}/{card['id']}/test", headers=alice.bearer)
    body = receiver.requests[-1].json()
    assert body["@type"] == "MessageCard" and body["@context"] == "https://schema.org/extensions"
    assert body["summary"] and len(body["themeColor"]) == 6
    assert body["potentialAction"][0]["@type"] == "OpenUri"

    adaptive = await make(client, alice, "teams", {"webhook_url": receiver.url("/teams2"), "format": "adaptive"})
    await client.post(f"{BASE}/{adaptive['id']}/test", headers=alice.bearer)
    body = receiver.requests[-1].json()
    assert body["type"] == "message"
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard" and attachment["content"]["body"]


async def test_generic_webhook_headers_and_signature(client, alice, receiver):
    from xinex.webhooks.signing import new_secret

    from tests.notify.receiver import verify_standard_webhook

    secret = new_secret()
    ch = await make(client, alice, "webhook", {"url": receiver.url("/generic"), "headers": {"X-Team": "ops-123"},
                                               "secret": secret})
    assert ch["config"]["headers"] == {"X-Team": "****"} and ch["config"]["secret"] == "****"
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["status"] == "succeeded"
    got = receiver.requests[-1]
    assert got.headers["x-team"] == "ops-123"
    assert verify_standard_webhook(secret, got) == [True]
    assert got.headers["webhook-id"] == r.json()["id"]
    assert got.json()["event"] == "test" and got.json()["severity"] == "info"
    # Marked as a test, with no (fake) incident behind it; the log entry says the same.
    body = got.json()
    assert (body["test"], body["incident_id"], body["dedup_key"]) == (True, None, None)
    assert body["message_id"].startswith("test:") and body["title"] == f"Test notification for {ch['name']}"
    assert body["url"] == "http://127.0.0.1:8000/" or body["url"].endswith("/")
    assert r.json()["incident_id"] is None and r.json()["event"] == "test"


async def test_email_channel_over_real_smtp(client, alice, smtp_server, app):
    ch = await make(client, alice, "email", {"addresses": ["Ops@Example.com", "oncall@example.com"]})
    assert ch["config"]["addresses"] == ["oncall@example.com", "ops@example.com"]
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["status"] == "succeeded", r.text
    msgs = smtp_server.to("oncall@example.com")
    assert msgs and "Test notification" in msgs[-1]["Subject"]


async def test_push_channel_to_a_user_without_devices_says_so(client, alice):
    # Delivery to registered devices: tests/push.
    ch = await make(client, alice, "push", {"user_ids": [alice.user_id]})
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["status"] == "no_devices" and r.json()["kind"] == "push"


async def test_notification_log_envelope_and_filters(client, alice, receiver):
    receiver.respond((400, {}, b"bad payload"))
    ch = await make(client, alice, "slack", {"webhook_url": receiver.url()})
    failed = (await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)).json()
    assert failed["status"] == "failed" and failed["response_code"] == 400 and failed["attempts"] == 1
    assert failed["next_attempt_at"] is None  # a 400 is never retried
    ok = (await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)).json()
    log = (await client.get(f"/api/v1/notification-log?channel_id={ch['id']}", headers=alice.bearer)).json()
    assert log["total"] == 2 and [i["id"] for i in log["items"]] == [ok["id"], failed["id"]]
    assert log["items"][0]["duration_ms"] is not None and log["items"][0]["delivered_at"]
    only_failed = (await client.get(f"/api/v1/notification-log?channel_id={ch['id']}&status=failed",
                                    headers=alice.bearer)).json()
    assert [i["id"] for i in only_failed["items"]] == [failed["id"]]
    assert "bad payload" in only_failed["items"][0]["error"]


async def test_disabled_channel_is_skipped(client, alice, receiver):
    ch = await make(client, alice, "discord", {"webhook_url": receiver.url()})
    r = await client.put(f"{BASE}/{ch['id']}", json={"enabled": False}, headers=alice.bearer)
    assert r.json()["enabled"] is False
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["status"] == "skipped" and receiver.requests == []


def test_masked_urls_keep_the_port():
    from xinex.notify.channels.common import mask_url

    assert mask_url("https://hooks.example.com:8443/services/T0/B0/SECRETxyz1") == "https://hooks.example.com:8443/****xyz1"
    assert mask_url("https://hooks.example.com/services/T0/B0/SECRETxyz1") == "https://hooks.example.com/****xyz1"
    assert mask_url("http://[::1]:9000/hook/SECRETabcd") == "http://[::1]:9000/****abcd"


async def test_a_webhook_channel_on_a_port_shows_it_and_keeps_the_secret_on_a_masked_put(client, alice, receiver):
    ch = await make(client, alice, "webhook", {"url": receiver.url("/in/SECRET-PATH-42")})
    assert ch["config"]["url"] == f"http://127.0.0.1:{receiver.port}/****H-42"
    r = await client.put(f"{BASE}/{ch['id']}", json={"config": ch["config"]}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    r = await client.post(f"{BASE}/{ch['id']}/test", headers=alice.bearer)
    assert r.json()["status"] == "succeeded" and receiver.requests[-1].path == "/in/SECRET-PATH-42"
