"""Hostile webhook and AI-heartbeat input is a validation error naming the field, never a 500."""

from __future__ import annotations

from tests.conftest import assert_error

BASE = "/api/v1/webhooks"


async def test_webhook_urls_no_request_could_reach_and_nul_descriptions_are_refused(client, alice, outsider):
    for url in ("http://example.com:99999/hook", "http://exa mple.com/hook", "http://%00/hook", "ftp://example.com/"):
        r = await client.post(BASE, json={"url": url, "event_types": ["*"]}, headers=alice.bearer)
        assert "url" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"], url
    r = await client.post(BASE, json={"url": "https://example.com/hook", "event_types": ["*"],
                                      "description": "a\u0000b"}, headers=alice.bearer)
    assert "description" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]

    created = await client.post(BASE, json={"url": "https://bücher.example/hook", "event_types": ["*"]},
                                headers=alice.bearer)
    assert created.status_code == 201, created.text
    hook = created.json()
    r = await client.put(f"{BASE}/{hook['id']}", json={"url": "http://example.com:0/"}, headers=alice.bearer)
    assert "url" in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
    r = await client.put(f"{BASE}/{hook['id']}", json={"description": "fine"}, headers=outsider.bearer)
    assert_error(r, 404, "NOT_FOUND")


async def test_ai_heartbeat_nul_in_name_or_description_is_a_validation_error(client, alice):
    for body, field in (({"name": "agent\u0000"}, "name"), ({"name": "agent", "description": "\u0000"}, "description")):
        r = await client.post("/api/v1/ai-heartbeats", json=body, headers=alice.bearer)
        assert field in assert_error(r, 422, "VALIDATION_FAILED")["details"]["fields"]
