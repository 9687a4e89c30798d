"""A page that reached no working channel is visible on the incident (`delivery_warning` and a
timeline entry) and in the owners' in-app feed — not only in /notification-log. Real receivers on
127.0.0.1, the real SMTP server (or none configured), the app's own job queue."""

from __future__ import annotations

import http.server
import threading
import uuid
from datetime import timedelta

import pytest
from xinex.oncall.escalation import run_due

from tests.conftest import assert_error
from tests.incidents.helpers import (
    Receiver,
    emit_event,
    incidents,
    make_policy,
    make_rule,
    settle,
    start_time,
)
from tests.tenancy.helpers import deliver


class Refusing:
    """A webhook peer that answers every POST with 400 (a permanent failure, never retried)."""

    def __init__(self) -> None:
        self.hits = 0
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                peer.hits += 1
                self.send_response(400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def no_smtp(settings):
    """The operator configured no SMTP server (the test config has one)."""
    before = settings.smtp_url
    settings.smtp_url = ""
    yield
    settings.smtp_url = before


@pytest.fixture
def refusing():
    peer = Refusing()
    yield peer
    peer.close()


async def _incident(client, account, incident_id) -> dict:
    r = await client.get(f"/api/v1/incidents/{incident_id}", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()


async def _feed(client, account) -> list[dict]:
    return (await client.get("/api/v1/notifications/feed", headers=account.bearer)).json()["items"]


async def _fail(db, account, kind: str = "heartbeat.down", source=None):
    t0, source = start_time(), source or uuid.uuid4()
    await settle(db, await emit_event(db, account.tenant_id, kind, t0, source_id=source,
                                      payload={"name": "nightly backup"}))
    [inc] = await incidents(db, account.tenant_id, f"{kind.split('.')[0]}:{source}")
    return t0, inc


async def test_no_channel_and_no_smtp_warns_on_the_incident_and_in_the_feed(app, db, client, alice, outsider,
                                                                           no_smtp):
    """The newcomer's first miss: no channel yet, e-mail not configured → said where they look."""
    t0, inc = await _fail(db, alice)
    await run_due(db, now=t0)
    await deliver(app)
    body = await _incident(client, alice, inc.id)
    warning = body["delivery_warning"]
    assert warning.startswith("Paging reached no working channel") and "no channel on the route" in warning
    assert "XINEX_SMTP_URL is not configured" in warning
    assert [e for e in body["timeline"] if e["kind"] == "delivery_warning"][0]["message"] == warning
    listed = (await client.get("/api/v1/incidents", headers=alice.bearer)).json()["items"]
    assert [i["delivery_warning"] for i in listed if i["id"] == str(inc.id)] == [warning]
    [item] = [i for i in await _feed(client, alice) if i["event"] == "incident.unreached"]
    assert item["incident_id"] == str(inc.id) and item["title"] == "Nobody was reached: nightly backup is down"
    assert item["body"] == warning and item["severity"] == "warning"
    # Said once, even when paging goes on.
    await run_due(db, now=t0 + timedelta(hours=2))
    await deliver(app)
    timeline = (await _incident(client, alice, inc.id))["timeline"]
    assert [e["kind"] for e in timeline].count("delivery_warning") == 1
    # The outsider sees none of it.
    assert_error(await client.get(f"/api/v1/incidents/{inc.id}", headers=outsider.bearer), 404, "NOT_FOUND")
    assert all(i["incident_id"] != str(inc.id) for i in await _feed(client, outsider))


async def test_a_channel_that_fails_for_good_is_named_and_a_later_success_clears_it(app, db, client, alice, no_smtp,
                                                                                  refusing):
    good = Receiver()
    try:
        bad = (await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
            "name": "team hook", "kind": "webhook", "config": {"url": refusing.url}, "default": False})).json()
        ok = (await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
            "name": "backup hook", "kind": "webhook", "config": {"url": good.url}, "default": False})).json()
        policy = await make_policy(client, alice, [
            {"delay_minutes": 0, "targets": [{"type": "channel", "id": bad["id"]}]},
            {"delay_minutes": 5, "targets": [{"type": "channel", "id": ok["id"]}]}])
        source = uuid.uuid4()
        await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"])
        t0, inc = await _fail(db, alice, "monitor.down", source)
        await run_due(db, now=t0)
        await deliver(app)
        assert refusing.hits == 1
        warning = (await _incident(client, alice, inc.id))["delivery_warning"]
        assert "channel 'team hook' (webhook): HTTP 400" in warning and "no channel on the route" not in warning

        await run_due(db, now=t0 + timedelta(minutes=5))
        await deliver(app)
        assert [b["event"] for b in good.bodies] == ["incident.escalated"]
        body = await _incident(client, alice, inc.id)
        assert body["delivery_warning"] is None
        assert [e["kind"] for e in body["timeline"]].count("delivery_recovered") == 1
    finally:
        good.close()


async def test_a_working_channel_means_no_warning(app, db, client, alice, no_smtp):
    good = Receiver()
    try:
        await client.post("/api/v1/notification-channels", headers=alice.bearer, json={
            "name": "hook", "kind": "webhook", "config": {"url": good.url}})
        t0, inc = await _fail(db, alice)
        await run_due(db, now=t0)
        await deliver(app)
        assert [b["event"] for b in good.bodies] == ["incident.triggered"]
        body = await _incident(client, alice, inc.id)
        assert body["delivery_warning"] is None and "delivery_warning" not in [e["kind"] for e in body["timeline"]]
        assert not [i for i in await _feed(client, alice) if i["event"] == "incident.unreached"]
    finally:
        good.close()


async def test_nobody_on_call_and_no_channel_warns_when_the_step_fires(db, client, alice):
    schedule = (await client.post("/api/v1/schedules", headers=alice.bearer,
                                  json={"name": "empty rota", "timezone": "UTC", "layers": []})).json()
    policy = await make_policy(client, alice, [{"delay_minutes": 0,
                                                "targets": [{"type": "schedule", "id": schedule["id"]}]}])
    source = uuid.uuid4()
    await make_rule(client, alice, source_ids=[str(source)], escalation_policy_id=policy["id"])
    t0, inc = await _fail(db, alice, "monitor.down", source)
    await run_due(db, now=t0)
    warning = (await _incident(client, alice, inc.id))["delivery_warning"]
    assert warning == "Paging reached no working channel — no channel on the route; nobody was paged"
