"""The mobile app's contract (mobile_api/contract.py): every endpoint the app calls, walked with a JWT from the
real PKCE sign-in, answers its documented status and envelope; every other row answers as documented."""

from __future__ import annotations

import uuid
from datetime import timedelta

from xinex.kit.types import utcnow
from xinex.models.notify import FeedItem

from mobile_api.contract import ROWS, app_rows, url
from tests.push.helpers import ios_token, open_incident

PAGE = "page"  # {items, total, page, per_page, total_pages}
OBJECT = "object"  # a JSON object that is not an error
EMPTY = "empty"  # no body (204)


def error(code: str) -> str:
    return f"error:{code}"


def envelope_of(response) -> str:
    if response.status_code == 204 or not response.content:
        return EMPTY
    body = response.json()
    if not isinstance(body, dict):
        return type(body).__name__
    if {"error", "code", "details"} <= set(body):
        return error(body["code"])
    if {"items", "total", "page", "per_page", "total_pages"} <= set(body):
        return PAGE
    return OBJECT


async def test_every_app_endpoint_answers_a_pkce_jwt_as_documented(client, mobile, db, signup):
    account = await signup()
    tokens = await mobile.sign_in(account)
    jwt = {"Authorization": f"Bearer {tokens['access_token']}"}
    uid, later = account.user_id, utcnow() + timedelta(days=7)
    incident = await open_incident(db, account.tenant_id)
    async with db.session(tenant_id=uuid.UUID(account.tenant_id)) as s:
        item = FeedItem(user_id=uuid.UUID(uid), dedup_key=str(uuid.uuid4()), event="incident.triggered",
                        title="checkout api is down", incident_id=incident.id)
        s.add(item)
    ids: dict[str, str] = {}
    results: dict[tuple[str, str], tuple[int, str]] = {}
    push_token = ios_token()
    mismatches: list[str] = []

    async def call(method: str, path: str, expect: tuple[int, str], *, json=None, params=None, fill=None,
                   key: str | None = None):
        r = await client.request(method, "/api/v1" + (fill or path), headers=jwt, json=json, params=params)
        results[(method, path)] = (r.status_code, envelope_of(r))
        if (r.status_code, envelope_of(r)) != expect:
            mismatches.append(f"{method} {path}: {r.status_code} {r.text[:300]}")
        if key and r.status_code == 201:
            ids[key] = r.json()["id"]
        return r

    # Who am I, on which sessions.
    await call("GET", "/me", (200, OBJECT))
    await call("PUT", "/me", (200, OBJECT), json={"name": "On call", "timezone": "Europe/London"})
    sessions = await call("GET", "/sessions", (200, PAGE))
    await call("DELETE", "/sessions/{id}", (204, EMPTY), fill=f"/sessions/{sessions.json()['items'][0]['id']}")
    # Monitoring.
    await call("POST", "/monitors", (201, OBJECT), key="monitor", json={
        "type": "http", "name": "Homepage", "url": "https://example.com/health", "interval": 300})
    await call("GET", "/monitors", (200, PAGE))
    await call("GET", "/monitors/{id}", (200, OBJECT), fill=f"/monitors/{ids['monitor']}")
    await call("PUT", "/monitors/{id}", (200, OBJECT), fill=f"/monitors/{ids['monitor']}", json={"interval": 600})
    await call("GET", "/monitors/{id}/status", (200, OBJECT), fill=f"/monitors/{ids['monitor']}/status")
    hb = await call("POST", "/heartbeats", (201, OBJECT), key="heartbeat",
                    json={"name": "queue worker", "interval": 300, "grace": 60})
    await call("GET", "/heartbeats", (200, PAGE))
    await call("GET", "/heartbeats/{id}", (200, OBJECT), fill=f"/heartbeats/{ids['heartbeat']}")
    await call("PUT", "/heartbeats/{id}", (200, OBJECT), fill=f"/heartbeats/{ids['heartbeat']}", json={"grace": 120})
    await call("POST", "/hb/{slug}", (200, OBJECT), fill=f"/hb/{hb.json()['slug']}")
    window = {"name": "database upgrade", "starts_at": later.isoformat(),
              "ends_at": (later + timedelta(hours=2)).isoformat()}
    await call("POST", "/maintenance-windows", (201, OBJECT), key="window", json=window)
    await call("GET", "/maintenance-windows", (200, PAGE))
    await call("GET", "/maintenance-windows/{id}", (200, OBJECT), fill=f"/maintenance-windows/{ids['window']}")
    await call("PUT", "/maintenance-windows/{id}", (200, OBJECT), fill=f"/maintenance-windows/{ids['window']}",
               json={**window, "name": "database upgrade (moved)"})
    await call("GET", "/analytics/uptime", (200, OBJECT), params={"monitor_id": ids["monitor"]})
    await call("GET", "/analytics/response-time", (200, OBJECT), params={"monitor_id": ids["monitor"]})
    # Incidents and on-call.
    await call("GET", "/incidents", (200, PAGE))
    await call("GET", "/incidents/{id}", (200, OBJECT), fill=f"/incidents/{incident.id}")
    await call("POST", "/incidents/{id}/ack", (200, OBJECT), fill=f"/incidents/{incident.id}/ack")
    await call("POST", "/incidents/{id}/resolve", (200, OBJECT), fill=f"/incidents/{incident.id}/resolve")
    await call("GET", "/correlation-groups", (200, PAGE))
    await call("GET", "/alerts", (200, PAGE))
    policy = {"name": "me first", "steps": [{"delay_minutes": 0, "targets": [{"type": "user", "id": uid}]}]}
    await call("POST", "/escalation-policies", (201, OBJECT), key="policy", json=policy)
    await call("GET", "/escalation-policies", (200, PAGE))
    await call("GET", "/escalation-policies/{id}", (200, OBJECT), fill=f"/escalation-policies/{ids['policy']}")
    await call("PUT", "/escalation-policies/{id}", (200, OBJECT), fill=f"/escalation-policies/{ids['policy']}",
               json={**policy, "name": "me, always"})
    rule = {"name": "database pages", "severities": ["critical"], "escalation_policy_id": ids["policy"]}
    await call("POST", "/alert-routing-rules", (201, OBJECT), key="rule", json=rule)
    await call("GET", "/alert-routing-rules", (200, PAGE))
    await call("GET", "/alert-routing-rules/{id}", (200, OBJECT), fill=f"/alert-routing-rules/{ids['rule']}")
    await call("PUT", "/alert-routing-rules/{id}", (200, OBJECT), fill=f"/alert-routing-rules/{ids['rule']}",
               json={**rule, "name": "db pages"})
    schedule = {"name": "platform on-call", "timezone": "UTC", "layers": [
        {"name": "weekly", "rotation": "weekly", "start": "2026-12-07T09:00:00", "users": [uid]}]}
    await call("POST", "/schedules", (201, OBJECT), key="schedule", json=schedule)
    await call("GET", "/schedules", (200, PAGE))
    await call("GET", "/schedules/{id}", (200, OBJECT), fill=f"/schedules/{ids['schedule']}")
    await call("PUT", "/schedules/{id}", (200, OBJECT), fill=f"/schedules/{ids['schedule']}",
               json={**schedule, "name": "platform"})
    await call("POST", "/schedules/{id}/overrides", (201, OBJECT), fill=f"/schedules/{ids['schedule']}/overrides",
               json={"user_id": uid, "starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=8)).isoformat()})
    await call("POST", "/notification-channels", (201, OBJECT), key="channel", json={
        "name": "bridge", "kind": "webhook", "config": {"url": "https://hooks.example.com/xinex"}})
    await call("GET", "/notification-channels", (200, PAGE))
    await call("GET", "/notification-channels/{id}", (200, OBJECT), fill=f"/notification-channels/{ids['channel']}")
    await call("PUT", "/notification-channels/{id}", (200, OBJECT), fill=f"/notification-channels/{ids['channel']}",
               json={"name": "bridge (eu)"})
    await call("POST", "/notification-channels/{id}/test", (200, OBJECT),
               fill=f"/notification-channels/{ids['channel']}/test")
    await call("GET", "/notifications/feed", (200, PAGE))
    await call("GET", "/notifications/feed/unread-count", (200, OBJECT))
    await call("POST", "/notifications/feed/{id}/read", (200, OBJECT), fill=f"/notifications/feed/{item.id}/read")
    await call("POST", "/notifications/feed/read-all", (200, OBJECT))
    await call("GET", "/users/me/notification-prefs", (200, OBJECT))
    await call("PUT", "/users/me/notification-prefs", (200, OBJECT),
               json={"rules": {"critical": ["push", "email", "feed"]}})
    await call("POST", "/ws/ticket", (200, OBJECT))
    await call("GET", "/status-pages", (200, PAGE))
    # Billing: this server sells no plans (no Stripe key), which the app is told in the catalog format.
    await call("GET", "/billing/subscription", (200, OBJECT))
    await call("POST", "/billing/create-checkout-session", (409, error("BILLING_NOT_CONFIGURED")),
               json={"tier": "pro", "interval": "month"})
    await call("POST", "/billing/downgrade", (409, error("BILLING_NOT_CONFIGURED")), json={"target_tier": "free"})
    await call("DELETE", "/billing/downgrade", (409, error("BILLING_NOT_CONFIGURED")))
    await call("POST", "/billing/interval", (409, error("BILLING_NOT_CONFIGURED")), json={"interval": "year"})
    await call("GET", "/billing/invoices", (200, PAGE))
    await call("GET", "/billing/tax-info", (200, OBJECT))
    await call("PUT", "/billing/tax-info", (409, error("BILLING_NOT_CONFIGURED")),
               json={"country": "DE", "tax_id": "DE123456789", "tax_id_type": "eu_vat"})
    await call("GET", "/billing/currencies", (200, OBJECT))
    # Account and platform.
    await call("GET", "/account/export", (202, OBJECT))
    await call("GET", "/feature-flags", (200, OBJECT))
    await call("GET", "/feature-gates", (200, OBJECT))
    onboarding = await call("GET", "/onboarding", (200, OBJECT))
    step = onboarding.json()["steps"][0]["key"]
    await call("POST", "/onboarding/{step}/complete", (200, OBJECT), fill=f"/onboarding/{step}/complete")
    await call("POST", "/push-tokens", (201, OBJECT), json={"token": push_token, "platform": "ios"})
    await call("GET", "/push-tokens", (200, PAGE))
    await call("DELETE", "/push-tokens/{token}", (204, EMPTY), fill=f"/push-tokens/{push_token}")
    # Deletions last.
    for name, path in [("rule", "/alert-routing-rules"), ("policy", "/escalation-policies"),
                       ("schedule", "/schedules"), ("channel", "/notification-channels"),
                       ("window", "/maintenance-windows"), ("heartbeat", "/heartbeats"), ("monitor", "/monitors")]:
        await call("DELETE", f"{path}/{{id}}", (204, EMPTY), fill=f"{path}/{ids[name]}")
    await call("POST", "/auth/logout", (204, EMPTY))

    assert not mismatches, "\n".join(mismatches)
    # Every endpoint the app calls was walked, and nothing else claims to be the app's.
    walked = set(results)
    expected = {(r.method, r.path) for r in app_rows()}
    assert expected == walked, (expected - walked, walked - expected)
    # The JWT still works after all of that (logout ends a browser session, not this sign-in).
    assert (await client.get("/api/v1/me", headers=jwt)).status_code == 200


async def test_rows_outside_the_app_answer_a_jwt_as_documented(client, mobile, signup, outsider):
    account = await signup()
    jwt = {"Authorization": f"Bearer {(await mobile.sign_in(account))['access_token']}"}
    concrete = {"/ai-heartbeats/{id}/run": None, "/public/status-pages/{slug}": "no-such-page"}
    for row in ROWS:
        if row.with_jwt == "reachable":
            if "{" in row.path:
                assert row.path in concrete, row
                # Reachable: the JWT passes authentication and authorization; the object does not exist (404).
                r = await client.request(row.method, url(row).replace("{id}", str(uuid.uuid4())), headers=jwt,
                                         json={"event": "start", "run_id": "r1"})
                assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND", (row, r.text)
            else:
                r = await client.request(row.method, url(row), headers=jwt)
                assert r.status_code == 200 and envelope_of(r) in (PAGE, OBJECT), (row, r.status_code, r.text[:200])
        elif row.with_jwt == "public" and row.method == "GET":
            path = url(row).replace("{slug}", concrete.get(row.path) or "")
            r = await client.get(path)
            assert r.status_code in (200, 404), (row, r.status_code)
    # A JWT of another tenant reaches none of this account's data: its lists are its own.
    other = {"Authorization": f"Bearer {(await mobile.sign_in(outsider))['access_token']}"}
    assert (await client.get("/api/v1/notification-log", headers=other)).json()["total"] == 0


def test_docs_print_every_row_of_the_contract():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "mobile.md").read_text()
    for row in ROWS:
        assert f"| {row.method} | `{row.path}` | {row.mobile} |" in text, row
