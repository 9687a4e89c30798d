"""The default route: every tenant has one; a new channel joins it unless created with
`"default": false` (visible and changeable); an alert no rule matches reaches its channels (and,
without a policy of its own, the owners and admins). Real receivers on 127.0.0.1."""

from __future__ import annotations

import uuid

import pytest
from xinex.oncall.escalation import run_due

from tests.conftest import assert_error
from tests.incidents.helpers import (
    Receiver,
    emit_event,
    incidents,
    make_policy,
    make_rule,
    pages,
    settle,
    start_time,
    the_default_route,
    user,
)
from tests.tenancy.helpers import deliver

RULES = "/api/v1/alert-routing-rules"
CHANNELS = "/api/v1/notification-channels"


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


async def hook(client, account, url: str, **extra) -> dict:
    r = await client.post(CHANNELS, headers=account.bearer,
                          json={"name": f"hook {uuid.uuid4().hex[:6]}", "kind": "webhook", "config": {"url": url},
                                **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_new_tenant_has_a_default_route_and_a_new_channel_joins_it(client, alice, outsider):
    route = await the_default_route(client, alice)
    assert route["name"] == "Default route" and route["enabled"] and route["channel_ids"] == []
    assert route["escalation_policy_id"] is None

    joined = await hook(client, alice, "https://hooks.example.com/a")
    apart = await hook(client, alice, "https://hooks.example.com/b", default=False)
    assert joined["default"] is True and apart["default"] is False
    assert (await the_default_route(client, alice))["channel_ids"] == [joined["id"]]
    listed = {c["id"]: c["default"] for c in (await client.get(CHANNELS, headers=alice.bearer)).json()["items"]}
    assert listed == {joined["id"]: True, apart["id"]: False}

    # Changeable by PUT, visible in GET; the ETag moves with it.
    etag = (await client.get(f"{CHANNELS}/{apart['id']}", headers=alice.bearer)).headers["etag"]
    r = await client.put(f"{CHANNELS}/{apart['id']}", json={"default": True}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["default"] is True and r.headers["etag"] != etag
    r = await client.put(f"{CHANNELS}/{joined['id']}", json={"default": False}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["default"] is False
    assert (await client.get(f"{CHANNELS}/{joined['id']}", headers=alice.bearer)).json()["default"] is False
    assert (await the_default_route(client, alice))["channel_ids"] == [apart["id"]]
    # Twice the same is a no-op.
    r = await client.put(f"{CHANNELS}/{apart['id']}", json={"default": True}, headers=alice.bearer)
    assert (await the_default_route(client, alice))["channel_ids"] == [apart["id"]]

    # The outsider neither sees nor moves alice's channels, and has its own, untouched route.
    assert_error(await client.put(f"{CHANNELS}/{apart['id']}", json={"default": False}, headers=outsider.bearer),
                 404, "NOT_FOUND")
    assert (await the_default_route(client, outsider))["channel_ids"] == []
    assert (await the_default_route(client, alice))["channel_ids"] == [apart["id"]]
    assert_error(await client.put(f"{CHANNELS}/{apart['id']}", json={"default": "maybe"}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")


async def test_the_default_route_is_edited_not_created_or_deleted(client, alice, outsider):
    route = await the_default_route(client, alice)
    url = f"{RULES}/{route['id']}"
    err = assert_error(await client.post(RULES, json={"name": "catch-all", "is_default": True}, headers=alice.bearer),
                       409, "CONFLICT")
    assert err["details"]["default_route_id"] == route["id"]
    assert_error(await client.delete(url, headers=alice.bearer), 409, "CONFLICT")
    err = assert_error(await client.put(url, json={"name": "x", "is_default": False}, headers=alice.bearer),
                       422, "VALIDATION_FAILED")
    assert "is_default" in err["details"]["fields"]
    channel = await hook(client, alice, "https://hooks.example.com/plain")
    other = await make_rule(client, alice, name="plain", channel_ids=[channel["id"]])
    assert_error(await client.put(f"{RULES}/{other['id']}", headers=alice.bearer,
                                  json={"name": "plain", "is_default": True, "channel_ids": [channel["id"]]}),
                 409, "CONFLICT")
    # Its channels and policy are edited like any rule's (references checked); empty is allowed.
    theirs = await hook(client, outsider, "https://hooks.example.com/theirs")
    assert_error(await client.put(url, json={"name": "Default route", "is_default": True,
                                             "channel_ids": [theirs["id"]]}, headers=alice.bearer),
                 422, "VALIDATION_FAILED")
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [user(alice)]}])
    r = await client.put(url, json={"name": "Everything else", "is_default": True,
                                    "escalation_policy_id": policy["id"]}, headers=alice.bearer)
    assert r.status_code == 200 and r.json()["escalation_policy_id"] == policy["id"] and r.json()["channel_ids"] == []
    for method in ("GET", "PUT", "DELETE"):
        body = {"name": "x", "is_default": True} if method == "PUT" else None
        assert_error(await client.request(method, url, json=body, headers=outsider.bearer), 404, "NOT_FOUND")


async def test_deleting_a_channel_leaves_the_default_route_and_is_refused_while_a_rule_uses_it(client, alice):
    a = await hook(client, alice, "https://hooks.example.com/a")
    b = await hook(client, alice, "https://hooks.example.com/b")
    rule = await make_rule(client, alice, name="db", tags=["db"], channel_ids=[b["id"]])
    policy = await make_policy(client, alice, [{"delay_minutes": 0, "targets": [{"type": "channel", "id": b["id"]}]}])
    err = assert_error(await client.delete(f"{CHANNELS}/{b['id']}", headers=alice.bearer), 409, "CONFLICT")
    assert sorted(err["details"]["used_by"]) == sorted([f"routing rule {rule['name']!r}",
                                                        f"escalation policy {policy['name']!r}"])
    assert (await client.delete(f"{CHANNELS}/{a['id']}", headers=alice.bearer)).status_code == 204
    assert (await the_default_route(client, alice))["channel_ids"] == [b["id"]]


async def test_an_alert_no_rule_matches_reaches_a_new_channel(app, db, client, alice, receiver):
    """The newcomer's case: a channel, no routing rule, a failing source → the channel gets the page."""
    channel = await hook(client, alice, receiver.url)
    quiet = Receiver()
    try:
        await hook(client, alice, quiet.url, default=False)
        t0, source = start_time(), uuid.uuid4()
        await settle(db, await emit_event(db, alice.tenant_id, "heartbeat.down", t0, source_id=source,
                                          payload={"name": "nightly backup"}))
        [inc] = await incidents(db, alice.tenant_id, f"heartbeat:{source}")
        assert inc.route_channel_ids == [channel["id"]]
        assert inc.policy_snapshot["name"] == "Tenant owners and admins (default route)"
        await run_due(db, now=t0)
        made = {(p.target_type, str(p.target_id)) for p in await pages(db, alice.tenant_id, inc.id)}
        assert made == {("channel", channel["id"]), ("user", alice.user_id)}
        await deliver(app)
        assert [b["event"] for b in receiver.bodies] == ["incident.triggered"]
        assert "nightly backup" in receiver.bodies[0]["title"] and quiet.bodies == []
    finally:
        quiet.close()


async def test_a_disabled_default_route_pages_the_owners_only(db, client, alice):
    await hook(client, alice, "https://hooks.example.com/a")
    route = await the_default_route(client, alice)
    r = await client.put(f"{RULES}/{route['id']}", json={"name": route["name"], "is_default": True, "enabled": False,
                                                        "channel_ids": route["channel_ids"]}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    t0, source = start_time(), uuid.uuid4()
    await settle(db, await emit_event(db, alice.tenant_id, "monitor.down", t0, source_id=source))
    [inc] = await incidents(db, alice.tenant_id, f"monitor:{source}")
    assert inc.route_channel_ids == [] and inc.routing_rule_id is None
    await run_due(db, now=t0)
    assert [(p.target_type, str(p.target_id)) for p in await pages(db, alice.tenant_id, inc.id)] == [
        ("user", alice.user_id)]


async def test_concurrent_channel_creates_all_join_the_default_route(client, alice):
    """Each create rewrites the route's list: under a row lock, so none is lost."""
    import asyncio

    made = await asyncio.gather(*(hook(client, alice, f"https://hooks.example.com/{i}") for i in range(12)))
    route = await the_default_route(client, alice)
    assert sorted(route["channel_ids"]) == sorted(c["id"] for c in made)
    toggled = await asyncio.gather(*(client.put(f"{CHANNELS}/{c['id']}", json={"default": False}, headers=alice.bearer)
                                     for c in made[:6]))
    assert all(r.status_code == 200 for r in toggled)
    assert sorted((await the_default_route(client, alice))["channel_ids"]) == sorted(c["id"] for c in made[6:])


async def test_concurrent_channel_creates_on_the_embedded_sqlite(sqlite_db):
    """The embedded default: the same read-modify-write, serialised by the one-writer gate; a tenant
    made without the provisioning path gets its default route on its first channel."""
    import asyncio

    from sqlalchemy import select
    from xinex.models.oncall import RoutingRule
    from xinex.models.tenant import Tenant
    from xinex.notify import service
    from xinex.notify.schemas import ChannelCreate, ChannelUpdate

    tenant_id = uuid.uuid4()
    async with sqlite_db.session(system="test") as s:
        s.add(Tenant(id=tenant_id, name="embedded", slug=f"embedded-{tenant_id.hex[:8]}"))

    async def make(i: int) -> uuid.UUID:
        async with sqlite_db.session(tenant_id=tenant_id) as s:
            channel = await service.create(s, tenant_id, None, ChannelCreate(
                name=f"hook {i}", kind="webhook", config={"url": f"https://hooks.example.com/{i}"}))
            return channel.id

    async def leave(channel_id: uuid.UUID) -> None:
        async with sqlite_db.session(tenant_id=tenant_id) as s:
            await service.update(s, channel_id, ChannelUpdate(default=False), None)

    async def route_channels() -> list[str]:
        async with sqlite_db.session(tenant_id=tenant_id) as s:
            [route] = (await s.execute(select(RoutingRule).where(RoutingRule.is_default.is_(True)))).scalars().all()
            return sorted(route.channel_ids)

    made = await asyncio.gather(*(make(i) for i in range(8)))
    assert await route_channels() == sorted(str(c) for c in made)
    await asyncio.gather(*(leave(c) for c in made[:4]))  # a PUT of `default` alone writes nothing first
    assert await route_channels() == sorted(str(c) for c in made[4:])
