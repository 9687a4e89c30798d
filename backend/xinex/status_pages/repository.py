"""Queries of the status-pages domain. Tenant scoping comes from the session (kit/tenancy); the
public surface looks a page up by slug under a named system scope, then binds the page's tenant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.kit.tenancy import TENANT_KEY, bind_tenant, system_scope
from xinex.models.ai_heartbeats import AiHeartbeat
from xinex.models.heartbeats import Heartbeat
from xinex.models.incidents import MaintenanceWindow
from xinex.models.maintenance import MaintenanceSchedule
from xinex.models.monitors import Monitor
from xinex.models.outbox import OutboxEvent
from xinex.models.status_pages import (
    StatusPage,
    StatusPageComponent,
    StatusPageGroup,
    StatusPageIncident,
    StatusPageIncidentUpdate,
    StatusPageSubscriber,
)
from xinex.models.tenant import Membership

T = TypeVar("T")
SOURCE_MODELS: dict[str, Any] = {"monitor": Monitor, "heartbeat": Heartbeat, "ai_heartbeat": AiHeartbeat}


class PageRepository(Repository[StatusPage]):
    model = StatusPage
    label = "status page"


class GroupRepository(Repository[StatusPageGroup]):
    model = StatusPageGroup
    label = "component group"


class ComponentRepository(Repository[StatusPageComponent]):
    model = StatusPageComponent
    label = "component"


class IncidentRepository(Repository[StatusPageIncident]):
    model = StatusPageIncident
    label = "status page incident"


class SubscriberRepository(Repository[StatusPageSubscriber]):
    model = StatusPageSubscriber
    label = "subscriber"


REPOSITORIES: dict[type[Any], type[Repository[Any]]] = {
    r.model: r for r in (PageRepository, GroupRepository, ComponentRepository, IncidentRepository,
                         SubscriberRepository)}


async def get_or_404(session: AsyncSession, model: type[T], object_id: uuid.UUID) -> T:
    """The object in the session's tenant, or 404 "<what> not found" — also when another tenant has it
    (kit Repository: the tenant criterion comes from the session, never written here)."""
    obj: T = await REPOSITORIES[model](session).get_or_404(object_id)
    return obj


async def pages(session: AsyncSession, offset: int, limit: int) -> tuple[list[StatusPage], int]:
    total = (await session.execute(select(func.count()).select_from(StatusPage))).scalar_one()
    rows = (await session.execute(select(StatusPage).order_by(col(StatusPage.created_at), col(StatusPage.id))
                                  .offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


def count_pages() -> Any:
    return select(func.count()).select_from(StatusPage)


async def slug_taken(session: AsyncSession, slug: str, except_id: uuid.UUID | None = None) -> bool:
    """Across tenants: the slug is the public address."""
    tenant_id = session.sync_session.info.get(TENANT_KEY)
    await system_scope(session, "status page slug uniqueness")
    try:
        stmt = select(col(StatusPage.id)).where(col(StatusPage.slug) == slug)
        if except_id is not None:
            stmt = stmt.where(col(StatusPage.id) != except_id)
        return (await session.execute(stmt.limit(1))).first() is not None
    finally:
        await bind_tenant(session, tenant_id)


async def domain_taken(session: AsyncSession, domain: str, except_id: uuid.UUID | None = None) -> bool:
    """Across tenants: a custom domain routes to one page."""
    tenant_id = session.sync_session.info.get(TENANT_KEY)
    await system_scope(session, "status page custom domain uniqueness")
    try:
        stmt = select(col(StatusPage.id)).where(col(StatusPage.custom_domain) == domain)
        if except_id is not None:
            stmt = stmt.where(col(StatusPage.id) != except_id)
        return (await session.execute(stmt.limit(1))).first() is not None
    finally:
        await bind_tenant(session, tenant_id)


async def slug_by_domain(session: AsyncSession, domain: str) -> str | None:
    """The slug of the page whose custom domain this is (any tenant), or None."""
    await system_scope(session, "status page lookup by custom domain")
    return (await session.execute(select(col(StatusPage.slug)).where(col(StatusPage.custom_domain) == domain))
            ).scalar_one_or_none()


async def groups(session: AsyncSession, page_id: uuid.UUID | None, offset: int = 0,
                 limit: int = 1000, *, count: bool = True) -> tuple[list[StatusPageGroup], int]:
    stmt = select(StatusPageGroup)
    if page_id is not None:
        stmt = stmt.where(col(StatusPageGroup.page_id) == page_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one() if count else -1
    rows = (await session.execute(stmt.order_by(col(StatusPageGroup.position), col(StatusPageGroup.created_at))
                                  .offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


async def components(session: AsyncSession, page_id: uuid.UUID | None, offset: int = 0,
                     limit: int = 1000, *, count: bool = True) -> tuple[list[StatusPageComponent], int]:
    stmt = select(StatusPageComponent)
    if page_id is not None:
        stmt = stmt.where(col(StatusPageComponent.page_id) == page_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one() if count else -1
    rows = (await session.execute(stmt.order_by(col(StatusPageComponent.position),
                                                col(StatusPageComponent.created_at))
                                  .offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


async def source_exists(session: AsyncSession, source_type: str, source_id: uuid.UUID) -> bool:
    model = SOURCE_MODELS[source_type]
    return (await session.execute(select(col(model.id)).where(col(model.id) == source_id))).first() is not None


async def source_states(session: AsyncSession, comps: Sequence[StatusPageComponent]) -> dict[uuid.UUID, tuple[str, list[str]]]:
    """source id -> (its status, its tags), for the components' monitors, heartbeats and AI heartbeats."""
    out: dict[uuid.UUID, tuple[str, list[str]]] = {}
    for kind, model in SOURCE_MODELS.items():
        ids = [c.source_id for c in comps if c.source_type == kind and c.source_id is not None]
        if not ids:
            continue
        rows = (await session.execute(select(col(model.id), col(model.status), col(model.tags)).where(col(model.id).in_(ids)))).all()
        out.update({row[0]: (row[1], list(row[2] or [])) for row in rows})
    return out


# The heartbeat's own state changes, as its state machine records them in the outbox (heartbeats/transitions.py).
HEARTBEAT_STATES = {"heartbeat.down": "down", "heartbeat.up": "up", "heartbeat.late": "late"}


async def heartbeat_sources(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Heartbeat]:
    if not ids:
        return {}
    rows = (await session.execute(select(Heartbeat).where(col(Heartbeat.id).in_(list(ids))))).scalars().all()
    return {hb.id: hb for hb in rows}


async def heartbeat_history(session: AsyncSession, ids: Sequence[uuid.UUID], start: datetime,
                            end: datetime) -> dict[uuid.UUID, list[tuple[datetime, str]]]:
    """heartbeat id -> its state changes (time, up | late | down) in [start, end), led by the state in force at
    `start` when one was recorded before it. Read from the outbox rows each transition wrote."""
    out: dict[uuid.UUID, list[tuple[datetime, str]]] = {i: [] for i in ids}
    if not ids:
        return out
    kinds = list(HEARTBEAT_STATES)
    base = (col(OutboxEvent.source_type) == "heartbeat", col(OutboxEvent.event_type).in_(kinds))
    # The last change before the range, per heartbeat.
    latest = (select(col(OutboxEvent.source_id), func.max(col(OutboxEvent.occurred_at)).label("at"))
              .where(*base, col(OutboxEvent.source_id).in_(list(ids)), col(OutboxEvent.occurred_at) < start)
              .group_by(col(OutboxEvent.source_id)).subquery())
    before = (await session.execute(
        select(col(OutboxEvent.source_id), col(OutboxEvent.event_type)).join(
            latest, (col(OutboxEvent.source_id) == latest.c.source_id) & (col(OutboxEvent.occurred_at) == latest.c.at))
        .where(*base))).all()
    for source_id, kind in before:
        out[source_id] = [(start, HEARTBEAT_STATES[kind])]
    inside = (await session.execute(
        select(col(OutboxEvent.source_id), col(OutboxEvent.occurred_at), col(OutboxEvent.event_type))
        .where(*base, col(OutboxEvent.source_id).in_(list(ids)), col(OutboxEvent.occurred_at) >= start,
               col(OutboxEvent.occurred_at) < end)
        .order_by(col(OutboxEvent.occurred_at), col(OutboxEvent.created_at)))).all()
    for source_id, at, kind in inside:
        changes = out[source_id]
        if not changes or changes[-1][1] != HEARTBEAT_STATES[kind]:
            changes.append((at, HEARTBEAT_STATES[kind]))
    return out


async def incidents(session: AsyncSession, page_id: uuid.UUID, *, resolved: bool | None = None,
                    since: datetime | None = None, resolved_since: datetime | None = None, offset: int = 0,
                    limit: int = 100, count: bool = True) -> tuple[list[StatusPageIncident], int]:
    stmt = select(StatusPageIncident).where(col(StatusPageIncident.page_id) == page_id)
    if resolved is True:
        stmt = stmt.where(col(StatusPageIncident.resolved_at).is_not(None))
    elif resolved is False:
        stmt = stmt.where(col(StatusPageIncident.resolved_at).is_(None))
    if since is not None:
        stmt = stmt.where(col(StatusPageIncident.started_at) >= since)
    if resolved_since is not None:
        stmt = stmt.where(col(StatusPageIncident.resolved_at) >= resolved_since)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one() if count else -1
    rows = (await session.execute(stmt.order_by(col(StatusPageIncident.started_at).desc(),
                                                col(StatusPageIncident.id)).offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


async def incidents_overlapping(session: AsyncSession, page_id: uuid.UUID, start: datetime) -> list[StatusPageIncident]:
    stmt = select(StatusPageIncident).where(
        col(StatusPageIncident.page_id) == page_id,
        (col(StatusPageIncident.resolved_at).is_(None)) | (col(StatusPageIncident.resolved_at) > start))
    return list((await session.execute(stmt)).scalars().all())


async def updates_of(session: AsyncSession, incident_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[StatusPageIncidentUpdate]]:
    out: dict[uuid.UUID, list[StatusPageIncidentUpdate]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return out
    rows = (await session.execute(select(StatusPageIncidentUpdate)
                                  .where(col(StatusPageIncidentUpdate.incident_id).in_(list(incident_ids)))
                                  .order_by(col(StatusPageIncidentUpdate.at).desc(),
                                            col(StatusPageIncidentUpdate.created_at).desc()))).scalars().all()
    for u in rows:
        out[u.incident_id].append(u)
    return out


async def page_by_slug(session: AsyncSession, slug: str) -> StatusPage | None:
    """The page at a public address; binds the session to its tenant (None: no such page)."""
    await system_scope(session, "status page public lookup by slug")
    page = (await session.execute(select(StatusPage).where(col(StatusPage.slug) == slug))).scalar_one_or_none()
    await bind_tenant(session, page.tenant_id if page else None)
    return page


async def subscriber_by_key(session: AsyncSession, page_id: uuid.UUID, key: str) -> StatusPageSubscriber | None:
    return (await session.execute(select(StatusPageSubscriber).where(
        col(StatusPageSubscriber.page_id) == page_id, col(StatusPageSubscriber.key) == key))).scalar_one_or_none()


async def subscriber_by_target(session: AsyncSession, page_id: uuid.UUID, kind: str,
                               target: str) -> StatusPageSubscriber | None:
    return (await session.execute(select(StatusPageSubscriber).where(
        col(StatusPageSubscriber.page_id) == page_id, col(StatusPageSubscriber.kind) == kind,
        col(StatusPageSubscriber.target) == target))).scalar_one_or_none()


async def subscribers(session: AsyncSession, page_id: uuid.UUID, offset: int,
                      limit: int) -> tuple[list[StatusPageSubscriber], int]:
    stmt = select(StatusPageSubscriber).where(col(StatusPageSubscriber.page_id) == page_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(col(StatusPageSubscriber.created_at)).offset(offset)
                                  .limit(limit))).scalars().all()
    return list(rows), int(total)


async def confirmed_subscribers(session: AsyncSession, page_id: uuid.UUID) -> list[StatusPageSubscriber]:
    return list((await session.execute(select(StatusPageSubscriber).where(
        col(StatusPageSubscriber.page_id) == page_id, col(StatusPageSubscriber.confirmed_at).is_not(None),
        col(StatusPageSubscriber.disabled_at).is_(None)))).scalars().all())


async def is_member(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    return (await session.execute(select(col(Membership.id)).where(
        col(Membership.tenant_id) == tenant_id, col(Membership.user_id) == user_id))).first() is not None


async def maintenance_windows(session: AsyncSession) -> list[tuple[MaintenanceWindow, MaintenanceSchedule | None]]:
    """The tenant's maintenance windows with their schedules (a handful per tenant)."""
    rows = (await session.execute(
        select(MaintenanceWindow, MaintenanceSchedule)
        .outerjoin(MaintenanceSchedule, col(MaintenanceSchedule.window_id) == col(MaintenanceWindow.id)))).all()
    return [(r[0], r[1]) for r in rows]
