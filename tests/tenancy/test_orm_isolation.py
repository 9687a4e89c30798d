"""The first wall: the ORM session scopes every tenant-owned statement, even deliberately unfiltered ones.

PostgreSQL RLS is switched off inside these transactions (`without_rls`) so that only the ORM layer
is under test; tests/tenancy/test_rls.py proves the second wall on its own.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, func, select, update
from xinex.kit.pagination import PageParams, paginate
from xinex.kit.tenancy import CrossTenantWrite, TenantContextMissing, bind_tenant, system_scope
from xinex.models.identity import ApiToken, User
from xinex.models.tenant import Invitation
from xinex.tiers.repository import count_of

from tests.tenancy.helpers import seed_rows, without_rls


@pytest.fixture
async def two_tenants(db, alice, outsider):
    await seed_rows(db, alice.tenant_id, alice.user_id, 3)
    await seed_rows(db, outsider.tenant_id, outsider.user_id, 2)
    return uuid.UUID(alice.tenant_id), uuid.UUID(outsider.tenant_id)


async def test_rls_off_really_exposes_both_tenants(db, two_tenants):
    a, b = two_tenants
    async with db.session(system="test: baseline") as s:
        tenants = set((await s.execute(select(ApiToken.tenant_id))).scalars())
    assert {a, b} <= tenants  # so the filtered results below are the ORM's doing


async def test_unfiltered_select_returns_only_bound_tenant(db, two_tenants):
    a, _ = two_tenants
    async with db.session(tenant_id=a) as s:
        await without_rls(s)
        tokens = (await s.execute(select(ApiToken))).scalars().all()
        invitations = (await s.execute(select(Invitation))).scalars().all()
        via_get = [await s.get(ApiToken, t.id) for t in tokens]
    assert len(tokens) == 4  # 3 seeded + the signup token
    assert {t.tenant_id for t in tokens} == {a}
    assert len(invitations) == 3 and {i.tenant_id for i in invitations} == {a}
    assert all(v is not None for v in via_get)


async def test_other_tenants_row_is_invisible_by_primary_key(db, two_tenants):
    a, b = two_tenants
    async with db.session(system="test: pick a row of b") as s:
        b_token = (await s.execute(select(ApiToken.id).where(ApiToken.tenant_id == b).limit(1))).scalar_one()
    async with db.session(tenant_id=a) as s:
        await without_rls(s)
        assert (await s.execute(select(ApiToken).where(ApiToken.id == b_token))).scalar_one_or_none() is None


async def test_counts_subqueries_and_joins_are_scoped(db, two_tenants):
    a, _ = two_tenants
    async with db.session(tenant_id=a) as s:
        await without_rls(s)
        assert (await s.execute(count_of(ApiToken))).scalar_one() == 4
        assert (await s.execute(select(func.count()).select_from(select(Invitation).subquery()))).scalar_one() == 3
        users = (await s.execute(select(User.id).where(User.id.in_(select(ApiToken.user_id))))).scalars().all()
        joined = (await s.execute(select(User.id).join(ApiToken, ApiToken.user_id == User.id))).scalars().all()
    assert len(users) == 1 and len(joined) == 4


async def test_paginate_count_and_slice_are_scoped(db, two_tenants):
    a, _ = two_tenants
    async with db.session(tenant_id=a) as s:
        await without_rls(s)
        rows, total = await paginate(s, select(Invitation).order_by(Invitation.created_at), PageParams(page=1, per_page=2))
        rest, total2 = await paginate(s, select(Invitation).order_by(Invitation.created_at), PageParams(page=2, per_page=2))
    assert total == total2 == 3
    assert len(rows) == 2 and len(rest) == 1
    assert {r.tenant_id for r in rows + rest} == {a}


async def test_update_and_delete_without_where_touch_only_bound_tenant(db, two_tenants):
    a, b = two_tenants
    async with db.session(tenant_id=a) as s:
        await without_rls(s)
        updated = await s.execute(update(ApiToken).values(name="renamed"))
        deleted = await s.execute(delete(Invitation))
    assert updated.rowcount == 4 and deleted.rowcount == 3
    async with db.session(system="test: verify") as s:
        b_names = set((await s.execute(select(ApiToken.name).where(ApiToken.tenant_id == b))).scalars())
        b_invites = (await s.execute(count_of(Invitation).where(Invitation.tenant_id == b))).scalar_one()
        a_names = set((await s.execute(select(ApiToken.name).where(ApiToken.tenant_id == a))).scalars())
    assert "renamed" not in b_names and b_invites == 2
    assert a_names == {"renamed"}


async def test_query_without_context_raises(db, two_tenants):
    async with db.sessionmaker() as s:
        with pytest.raises(TenantContextMissing):
            await s.execute(select(ApiToken))
        with pytest.raises(TenantContextMissing):
            await s.execute(count_of(Invitation))
        with pytest.raises(TenantContextMissing):
            await s.execute(delete(Invitation))
        # Non-tenant-owned models need no context.
        assert (await s.execute(select(func.count()).select_from(User))).scalar_one() >= 2
        await s.rollback()


async def test_insert_stamps_tenant_and_without_context_raises(db, alice):
    a = uuid.UUID(alice.tenant_id)
    async with db.session(tenant_id=a) as s:
        token = ApiToken(user_id=uuid.UUID(alice.user_id), name="stamped", token_hash=uuid.uuid4().hex * 2,
                         prefix="xinex_x", scopes=[])
        s.add(token)
        await s.flush()
        assert token.tenant_id == a
    async with db.sessionmaker() as s:
        s.add(ApiToken(user_id=uuid.UUID(alice.user_id), name="orphan", token_hash=uuid.uuid4().hex * 2,
                       prefix="xinex_x", scopes=[]))
        with pytest.raises(TenantContextMissing):
            await s.flush()
        await s.rollback()


async def test_flushing_other_tenants_object_raises(db, alice, outsider):
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        s.add(ApiToken(tenant_id=uuid.UUID(outsider.tenant_id), user_id=uuid.UUID(outsider.user_id), name="smuggled",
                       token_hash=uuid.uuid4().hex * 2, prefix="xinex_x", scopes=[]))
        with pytest.raises(CrossTenantWrite):
            await s.flush()
        await s.rollback()


async def test_moving_a_row_to_another_tenant_raises(db, alice, outsider):
    async with db.session(tenant_id=uuid.UUID(alice.tenant_id)) as s:
        token = (await s.execute(select(ApiToken))).scalars().first()
        token.tenant_id = uuid.UUID(outsider.tenant_id)
        with pytest.raises(CrossTenantWrite):
            await s.flush()
        await s.rollback()


async def test_system_scope_sees_all_and_rebinding_narrows_again(db, two_tenants):
    a, b = two_tenants
    async with db.sessionmaker() as s:
        await system_scope(s, "test: sweeper")
        both = set((await s.execute(select(ApiToken.tenant_id))).scalars())
        await bind_tenant(s, b)
        only_b = set((await s.execute(select(ApiToken.tenant_id))).scalars())
        await s.rollback()
    assert {a, b} <= both and only_b == {b}
    with pytest.raises(ValueError):
        async with db.sessionmaker() as s:
            await system_scope(s, "")
