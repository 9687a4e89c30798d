"""PostgreSQL row-level security for tenant-owned tables: the second wall behind the ORM layer.

Migrations call `enable_tenant_rls(op, table)` for each tenant-owned table they create. The app
role must not be a superuser nor own BYPASSRLS; FORCE makes the policy bind the table owner too.
"""

from __future__ import annotations

from typing import Any

POLICY = "tenant_isolation"
PREDICATE = (
    "(current_setting('xinex.system', true) = 'on' "
    "OR tenant_id::text = current_setting('xinex.tenant_id', true))"
)


def enable_tenant_rls(op: Any, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING {PREDICATE} WITH CHECK {PREDICATE}')


def disable_tenant_rls(op: Any, table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
