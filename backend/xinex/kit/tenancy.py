"""Fail-closed tenancy (docs/security.md, "Tenancy").

Every query on a `TenantOwned` model gets the tenant criterion added by the session itself;
inserts get `tenant_id` stamped; a tenant-owned query with no tenant context raises. Cross-tenant
work names its reason through `system_scope(...)`, or `cross_tenant(...)` for one block of a
tenant-bound session. `TenantScoped` tables (memberships, the audit trail) get the same criterion in a
tenant-bound session, and none in an unbound one: they are read across tenants by design. PostgreSQL row-level security keyed on the
per-transaction setting `xinex.tenant_id` is the second wall (kit/rls.py; migrations enable it per table).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import TableClause
from sqlmodel import Field, SQLModel

from xinex.kit.types import Entity

TENANT_KEY = "xinex.tenant_id"
SYSTEM_KEY = "xinex.system_scope"


class TenantContextMissing(RuntimeError):
    """A tenant-owned query ran without a tenant or a named system scope: a bug, never a leak."""


class CrossTenantWrite(RuntimeError):
    """An object of one tenant was flushed under another tenant's context."""


class TenantOwned(Entity):
    """Mixin for every tenant-owned table: `tenant_id NOT NULL`, indexed, filtered automatically."""

    tenant_id: uuid.UUID = Field(
        default=None, foreign_key="tenants.id", index=True, nullable=False, ondelete="CASCADE"
    )


class TenantScoped:
    """Marker for a table that carries its own `tenant_id` column but is also read across tenants by
    design — a user's memberships at sign-in, the audit trail with the tenant-less entries of an unknown
    address's failed sign-ins. A session bound to a tenant adds `tenant_id = <that tenant>` to its queries
    like a `TenantOwned` table's; an unbound session reads it without a criterion (no
    TenantContextMissing); a system scope adds none. Inserts are not stamped: the row names its tenant. A
    deliberate cross-tenant read in a bound session says so: `async with cross_tenant(session, reason)`."""


@dataclass(frozen=True)
class TenantContext:
    tenant_id: uuid.UUID


async def bind_tenant(session: AsyncSession, tenant_id: uuid.UUID | None) -> None:
    """Bind the session to one tenant; safe to call mid-transaction."""
    sync = session.sync_session
    sync.info[TENANT_KEY] = tenant_id
    sync.info.pop(SYSTEM_KEY, None)
    await _apply_rls_setting(session)


def bound_tenant(session: AsyncSession) -> uuid.UUID:
    """The tenant the session is bound to, for queries outside the ORM (the time-series store) that
    take it as a parameter; raises TenantContextMissing when there is none (a system scope included)."""
    tenant_id = session.sync_session.info.get(TENANT_KEY)
    if not isinstance(tenant_id, uuid.UUID):
        raise TenantContextMissing("a tenant-scoped query outside the ORM without a tenant context")
    return tenant_id


async def system_scope(session: AsyncSession, reason: str) -> None:
    """Explicit cross-tenant access for sweepers, schedulers and credential lookups."""
    if not reason:
        raise ValueError("a system scope needs a reason")
    sync = session.sync_session
    sync.info[SYSTEM_KEY] = reason
    sync.info.pop(TENANT_KEY, None)
    await _apply_rls_setting(session)


@asynccontextmanager
async def cross_tenant(session: AsyncSession, reason: str) -> AsyncIterator[None]:
    """A named system scope for one block, then the session's context as it was (a tenant, a system
    scope, or none): e.g. listing every tenant of the signed-in user from a tenant-bound request."""
    info = session.sync_session.info
    tenant_before, system_before = info.get(TENANT_KEY), info.get(SYSTEM_KEY)
    await system_scope(session, reason)
    try:
        yield
    finally:
        if system_before:
            await system_scope(session, system_before)
        else:
            await bind_tenant(session, tenant_before)


def _rls_values(sync: Session) -> tuple[str, str]:
    tenant = sync.info.get(TENANT_KEY)
    system = sync.info.get(SYSTEM_KEY)
    return (str(tenant) if tenant else "", "on" if system else "")


async def _apply_rls_setting(session: AsyncSession) -> None:
    # Only meaningful inside an open PostgreSQL transaction; after_begin covers new ones.
    sync = session.sync_session
    if not sync.in_transaction() or session.bind.dialect.name != "postgresql":
        return
    tenant, system = _rls_values(sync)
    await session.execute(
        text("SELECT set_config('xinex.tenant_id', :t, true), set_config('xinex.system', :s, true)"),
        {"t": tenant, "s": system},
    )


@event.listens_for(Session, "after_begin")
def _set_rls_on_begin(session: Session, transaction, connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    tenant, system = _rls_values(session)
    connection.execute(
        text("SELECT set_config('xinex.tenant_id', :t, true), set_config('xinex.system', :s, true)"),
        {"t": tenant, "s": system},
    )


_TABLES: dict[str, type] = {}
_TABLES_SEEN = 0


def _tenant_tables() -> dict[str, type]:
    """Table name -> TenantOwned or TenantScoped class, rebuilt when models are added to the registry."""
    global _TABLES_SEEN
    registry = SQLModel._sa_registry
    # `registry.mappers` builds a new frozenset on every call; the manager count is O(1).
    if len(registry._managers) != _TABLES_SEEN:
        mappers = registry.mappers
        _TABLES.clear()
        _TABLES.update({m.local_table.name: m.class_ for m in mappers
                        if issubclass(m.class_, (TenantOwned, TenantScoped))})
        _TABLES_SEEN = len(registry._managers)
    return _TABLES


def _tenant_owned_classes(state: ORMExecuteState) -> list[type]:
    # `all_mappers` only sees the statement's top-level entities: `select(func.count()).select_from(M)`,
    # a count over a subquery, or `X.id.in_(select(M.x))` would slip through. Walk every table instead.
    found = {m.class_ for m in state.all_mappers if issubclass(m.class_, (TenantOwned, TenantScoped))}
    tables = _tenant_tables()
    for element in visitors.iterate(state.statement):
        if isinstance(element, TableClause) and element.name in tables:
            found.add(tables[element.name])
    return sorted(found, key=lambda cls: cls.__name__)


@event.listens_for(Session, "do_orm_execute")
def _add_tenant_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the parent query already carried the criterion
    info = state.session.info
    if info.get(SYSTEM_KEY):
        return  # a declared cross-tenant scope adds no criterion: skip walking the statement
    classes = _tenant_owned_classes(state)
    if not classes:
        return
    tenant_id = info.get(TENANT_KEY)
    if tenant_id is None:
        if any(issubclass(cls, TenantOwned) for cls in classes):
            raise TenantContextMissing("tenant-owned query without a tenant context or a system scope")
        return  # only TenantScoped tables: an unbound session reads them across tenants
    state.statement = state.statement.options(
        *(
            with_loader_criteria(cls, lambda c: c.tenant_id == tenant_id, include_aliases=True)
            for cls in classes
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_tenant(session: Session, flush_context, instances) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    system = session.info.get(SYSTEM_KEY)
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, TenantOwned):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantContextMissing(f"insert of {type(obj).__name__} without a tenant context")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id and not system:
            raise CrossTenantWrite(f"{type(obj).__name__} of another tenant flushed in this context")


def all_tenant_tables() -> list[str]:
    return sorted(
        mapper.class_.__tablename__
        for mapper in SQLModel._sa_registry.mappers
        if issubclass(mapper.class_, TenantOwned)
    )
