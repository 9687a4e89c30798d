"""Per-user preferences and the in-app feed: defaults, validation, unread counts, isolation."""

from __future__ import annotations

import uuid

from xinex.notify.send import send_to_user

from tests.conftest import assert_error
from tests.notify.test_send import message

PREFS = "/api/v1/users/me/notification-prefs"
FEED = "/api/v1/notifications/feed"


async def test_prefs_defaults_update_and_validation(client, alice):
    r = await client.get(PREFS, headers=alice.bearer)
    assert r.status_code == 200
    body = r.json()
    assert body["user_id"] == alice.user_id and body["tenant_id"] == alice.tenant_id
    assert body["rules"]["critical"] == ["email", "push", "feed"] and body["quiet_hours"] is None
    r = await client.put(PREFS, headers=alice.bearer, json={
        "rules": {"info": [], "high": ["push", "push"]},
        "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}})
    assert r.status_code == 200, r.text
    assert r.json()["rules"]["info"] == [] and r.json()["rules"]["high"] == ["push"]
    assert r.json()["quiet_hours"]["timezone"] == "Europe/Berlin"
    bad = [
        {"rules": {"critical": ["sms"]}},
        {"rules": {"urgent": ["email"]}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Mars/Olympus"}},
        {"surprise": True},
    ]
    for body in bad:
        assert_error(await client.put(PREFS, headers=alice.bearer, json=body), 422, "VALIDATION_FAILED")


async def test_feed_unread_counts_read_and_read_all(client, db, alice, signup):
    bob_other_tenant = await signup()
    msgs = [message(alice, title=f"incident {i}") for i in range(3)]
    async with db.session(tenant_id=msgs[0].tenant_id) as session:
        for msg in msgs:
            await send_to_user(session, uuid.UUID(alice.user_id), msg)
    r = await client.get(FEED, headers=alice.bearer)
    page = r.json()
    assert {"items", "total", "page", "per_page", "total_pages", "unread_count"} <= set(page)
    assert page["unread_count"] == 3 and page["total"] == 3
    assert [i["title"] for i in page["items"]] == ["incident 2", "incident 1", "incident 0"]
    first = page["items"][0]
    assert first["read"] is False and first["tenant_id"] == alice.tenant_id

    # Another tenant's user sees nothing and cannot mark alice's item.
    assert (await client.get(FEED, headers=bob_other_tenant.bearer)).json()["total"] == 0
    assert_error(await client.post(f"{FEED}/{first['id']}/read", headers=bob_other_tenant.bearer), 404, "NOT_FOUND")

    r = await client.post(f"{FEED}/{first['id']}/read", headers=alice.bearer)
    assert r.status_code == 200 and r.json()["read"] is True and r.json()["read_at"].endswith("Z")
    assert (await client.get(f"{FEED}/unread-count", headers=alice.bearer)).json() == {"unread_count": 2}
    assert (await client.get(f"{FEED}?unread=true", headers=alice.bearer)).json()["total"] == 2
    r = await client.post(f"{FEED}/read-all", headers=alice.bearer)
    assert r.json() == {"marked": 2, "unread_count": 0}
    assert (await client.get(f"{FEED}/unread-count", headers=alice.bearer)).json() == {"unread_count": 0}
    assert_error(await client.post(f"{FEED}/not-a-uuid/read", headers=alice.bearer), 422, "VALIDATION_FAILED")
    assert_error(await client.get(f"{FEED}?per_page=500", headers=alice.bearer), 422, "VALIDATION_FAILED")


async def test_feed_is_per_user_within_a_tenant(client, db, alice, app):
    # A second member of alice's tenant: invite-free shortcut through the service layer.
    from xinex.models.identity import User
    from xinex.models.tenant import Membership

    async with db.session(system="test.member") as session:
        user = User(email=f"carol-{uuid.uuid4().hex[:6]}@example.com", name="Carol")
        session.add(user)
        await session.flush()
        session.add(Membership(tenant_id=uuid.UUID(alice.tenant_id), user_id=user.id, role="member"))
    msg = message(alice, title="for carol only")
    async with db.session(tenant_id=msg.tenant_id) as session:
        await send_to_user(session, user.id, msg)
    titles = [i["title"] for i in (await client.get(FEED, headers=alice.bearer)).json()["items"]]
    assert "for carol only" not in titles
