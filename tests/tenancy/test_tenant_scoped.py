"""TenantScoped tables (memberships, the audit trail): a tenant-bound session sees only its tenant's rows
without any filter written; an unbound one reads across tenants (a sign-in lists the user's tenants);
`cross_tenant` lifts the criterion for one block and gives the session its context back."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from xinex.audit import service as audit
from xinex.kit.pagination import PageParams
from xinex.kit.tenancy import SYSTEM_KEY, TENANT_KEY, TenantContextMissing, cross_tenant
from xinex.models.audit import AuditEvent
from xinex.models.tenant import Membership


async def test_a_bound_session_sees_only_its_tenants_memberships(db, alice, outsider):
    a, b = uuid.UUID(alice.tenant_id), uuid.UUID(outsider.tenant_id)
    async with db.session(tenant_id=a) as s:
        rows = (await s.execute(select(Membership))).scalars().all()
    assert rows and {m.tenant_id for m in rows} == {a}
    async with db.session() as s:  # unbound: across tenants, no TenantContextMissing
        tenants = set((await s.execute(select(Membership.tenant_id))).scalars())
    assert {a, b} <= tenants


async def test_cross_tenant_lifts_the_criterion_for_one_block_only(db, alice, outsider):
    a, b = uuid.UUID(alice.tenant_id), uuid.UUID(outsider.tenant_id)
    async with db.session(tenant_id=a) as s:
        async with cross_tenant(s, "test: every membership"):
            everyone = set((await s.execute(select(Membership.tenant_id))).scalars())
        assert s.sync_session.info.get(TENANT_KEY) == a and not s.sync_session.info.get(SYSTEM_KEY)
        after = set((await s.execute(select(Membership.tenant_id))).scalars())
    assert {a, b} <= everyone
    assert after == {a}


async def test_the_audit_log_reads_the_bound_tenants_events_and_refuses_without_one(db, alice, outsider):
    a, b = uuid.UUID(alice.tenant_id), uuid.UUID(outsider.tenant_id)
    async with db.session(system="test: seed audit") as s:
        audit.record(s, "test.scoped", tenant_id=a, actor_label="in a")
        audit.record(s, "test.scoped", tenant_id=b, actor_label="in b")
        audit.record(s, "test.scoped", actor_label="no tenant")
    async with db.session(tenant_id=a) as s:
        rows, total = await audit.list_events(s, PageParams(page=1, per_page=100), "test.scoped")
        raw = (await s.execute(select(AuditEvent).where(AuditEvent.action == "test.scoped"))).scalars().all()
    assert [r.actor_label for r in rows] == ["in a"] and total == 1
    assert {r.tenant_id for r in raw} == {a}
    async with db.session() as s:
        with pytest.raises(TenantContextMissing):
            await audit.list_events(s, PageParams(page=1, per_page=100))
