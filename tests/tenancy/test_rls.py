"""The second wall: PostgreSQL row-level security, checked with raw SQL on the app role's connection."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from xinex.kit.tenancy import all_tenant_tables

from tests.tenancy.helpers import seed_rows

pytestmark = pytest.mark.usefixtures("app")  # every model module imported, migrations applied


@pytest.fixture
async def raw(db):
    """A raw connection of the app role (never the ORM session): only RLS stands between tenants."""
    async with db.engine.connect() as conn:
        yield conn
        await conn.rollback()


async def test_app_role_is_subject_to_rls(raw):
    row = (await raw.execute(text(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"))).one()
    assert row == (False, False)


async def test_raw_select_sees_only_the_configured_tenant(db, raw, alice, outsider):
    await seed_rows(db, alice.tenant_id, alice.user_id, 2)
    await seed_rows(db, outsider.tenant_id, outsider.user_id, 2)
    await raw.execute(text("SELECT set_config('xinex.tenant_id', :t, true)"), {"t": alice.tenant_id})
    tokens = (await raw.execute(text("SELECT tenant_id FROM api_tokens"))).scalars().all()
    invites = (await raw.execute(text("SELECT tenant_id FROM invitations"))).scalars().all()
    assert len(tokens) == 3 and {str(t) for t in tokens} == {alice.tenant_id}
    assert len(invites) == 2 and {str(t) for t in invites} == {alice.tenant_id}
    # Raw DML cannot reach the other tenant either.
    result = await raw.execute(text("UPDATE api_tokens SET name = 'raw'"))
    assert result.rowcount == 3


async def test_raw_select_without_setting_sees_nothing(db, raw, alice):
    await seed_rows(db, alice.tenant_id, alice.user_id, 1)
    assert (await raw.execute(text("SELECT count(*) FROM api_tokens"))).scalar_one() == 0
    assert (await raw.execute(text("SELECT count(*) FROM invitations"))).scalar_one() == 0


async def test_raw_insert_into_another_tenant_is_refused(raw, alice, outsider):
    from sqlalchemy.exc import DBAPIError

    await raw.execute(text("SELECT set_config('xinex.tenant_id', :t, true)"), {"t": alice.tenant_id})
    with pytest.raises(DBAPIError, match="row-level security"):
        await raw.execute(text(
            "INSERT INTO invitations (id, created_at, updated_at, tenant_id, email, role, token_hash, expires_at) "
            "VALUES (:id, now(), now(), :t, 'x@example.com', 'member', :h, now())"),
            {"id": uuid.uuid4(), "t": outsider.tenant_id, "h": uuid.uuid4().hex})


async def test_every_tenant_owned_table_has_forced_rls_and_a_policy(raw):
    tables = all_tenant_tables()
    assert {"api_tokens", "invitations"} <= set(tables)
    rows = (await raw.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ANY(:names)"), {"names": tables})).all()
    found = {name: (enabled, forced, policies) for name, enabled, forced, policies in rows}
    missing = sorted(set(tables) - set(found))
    assert not missing, f"tenant-owned models without a table: {missing}"
    unprotected = sorted(name for name, (enabled, forced, policies) in found.items()
                         if not (enabled and forced and policies >= 1))
    assert not unprotected, f"tables missing ENABLE/FORCE ROW LEVEL SECURITY or a policy: {unprotected}"
