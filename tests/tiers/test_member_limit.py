"""ensure_within_limit through the members/invitations path: members + pending invitations share seats."""

from __future__ import annotations

import uuid

import pytest
from xinex.kit.errors import AppError
from xinex.models.tenant import Membership
from xinex.tiers.service import ensure_feature, ensure_within_limit

from tests.conftest import assert_error
from tests.tenancy.helpers import invite, mailed_token
from tests.tiers.helpers import set_tier


def new_email() -> str:
    return f"seat-{uuid.uuid4().hex[:10]}@example.com"


async def test_free_tier_allows_three_seats(app, client, alice, outsider):
    # Another tenant's pending invitations do not use alice's seats.
    for _ in range(2):
        await invite(app, client, outsider, new_email())
    first = await invite(app, client, alice, new_email())
    await invite(app, client, alice, new_email())
    r = await client.post("/api/v1/invitations", json={"email": new_email()}, headers=alice.bearer)
    body = assert_error(r, 403, "TIER_LIMIT_EXCEEDED")
    assert body["details"]["current_count"] == 3
    assert body["details"]["tier_limit"] == 3
    assert body["details"]["tier"] == "free"
    # Revoking a pending invitation frees its seat.
    assert (await client.delete(f"/api/v1/invitations/{first['id']}", headers=alice.bearer)).status_code == 204
    await invite(app, client, alice, new_email())


async def test_upgrading_raises_the_limit(app, client, db, alice):
    for _ in range(2):
        await invite(app, client, alice, new_email())
    assert_error(await client.post("/api/v1/invitations", json={"email": new_email()}, headers=alice.bearer),
                 403, "TIER_LIMIT_EXCEEDED")
    await set_tier(db, alice.tenant_id, "pro")
    await invite(app, client, alice, new_email())


async def test_accept_refused_when_seats_filled_meanwhile(app, client, smtp_server, signup, db, alice):
    email = new_email()
    await invite(app, client, alice, email)
    invitee = await signup(email=email)
    fillers = [await signup() for _ in range(2)]
    async with db.session(system="test: fill seats") as s:
        for f in fillers:
            s.add(Membership(tenant_id=uuid.UUID(alice.tenant_id), user_id=uuid.UUID(f.user_id), role="member"))
    r = await client.post("/api/v1/invitations/accept", json={"token": mailed_token(smtp_server, email)},
                          cookies=invitee.cookies, headers=invitee.session_headers)
    body = assert_error(r, 403, "TIER_LIMIT_EXCEEDED")
    assert body["details"] == {"current_count": 3, "tier_limit": 3, "tier": "free", "limit": "members"}


async def test_gating_helpers_directly(db, alice):
    tenant_id = uuid.UUID(alice.tenant_id)
    async with db.session(tenant_id=tenant_id) as s:
        await ensure_within_limit(s, tenant_id, "monitors", current_count=9)
        with pytest.raises(AppError) as err:
            await ensure_within_limit(s, tenant_id, "monitors", current_count=10)
        assert err.value.code == "TIER_LIMIT_EXCEEDED"
        assert err.value.details["tier_limit"] == 10
        with pytest.raises(AppError) as err:
            await ensure_feature(s, tenant_id, "sso")
        assert err.value.code == "FEATURE_NOT_IN_TIER" and err.value.details["required_tier"] == "enterprise"
    await set_tier(db, alice.tenant_id, "enterprise")
    async with db.session(tenant_id=tenant_id) as s:
        await ensure_within_limit(s, tenant_id, "monitors", current_count=10_000)
        await ensure_feature(s, tenant_id, "sso")
