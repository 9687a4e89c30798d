"""Heartbeat CRUD decisions: slugs, schedule changes, tier limits, find-or-create by name."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.heartbeats import service
from xinex.heartbeats.schemas import Attribution, HeartbeatCreate, HeartbeatOut, HeartbeatUpdate
from xinex.kit import sqlite_gate
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat
from xinex.models.heartbeats import Heartbeat
from xinex.models.heartbeats import HeartbeatStatus as S
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_within_limit, tenant_tier

DEFAULT_INTERVAL_S = 86400
DEFAULT_GRACE_S = 3600


def ping_url(public_url: str, hb: Heartbeat) -> str:
    return f"{public_url.rstrip('/')}/ping/{hb.ping_id}"


def to_out(hb: Heartbeat, public_url: str) -> HeartbeatOut:
    return HeartbeatOut(
        id=hb.id, tenant_id=hb.tenant_id, name=hb.name, slug=hb.slug, kind=hb.kind, interval=hb.interval_s,
        grace=hb.grace_s, cron=hb.cron, timezone=hb.timezone, max_runtime=hb.max_runtime_s,
        notify_late=bool(hb.notify_late), status=hb.status, paused_reason=hb.paused_reason,
        ping_url=ping_url(public_url, hb), tags=list(hb.tags or []),
        attribution=Attribution(host=hb.attr_host, service=hb.attr_service, project=hb.attr_project),
        last_ping_at=hb.last_ping_at, last_start_at=hb.last_start_at, last_duration_ms=hb.last_duration_ms,
        late_at=hb.late_at, down_at=hb.down_at, n_pings=hb.n_pings, created_at=hb.created_at,
        updated_at=hb.updated_at,
    )


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:80].strip("-")
    return slug or "heartbeat"


async def _slug_taken(session: AsyncSession, slug: str, exclude: uuid.UUID | None = None) -> bool:
    stmt = select(Heartbeat.id).where(Heartbeat.slug == slug)
    if exclude is not None:
        stmt = stmt.where(Heartbeat.id != exclude)
    return (await session.execute(stmt.limit(1))).first() is not None


async def _free_slug(session: AsyncSession, base: str) -> str:
    slug, n = base, 1
    while await _slug_taken(session, slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


async def get(session: AsyncSession, hb_id: uuid.UUID) -> Heartbeat:
    hb = (await session.execute(select(Heartbeat).where(Heartbeat.id == hb_id))).scalar_one_or_none()
    if hb is None:
        raise AppError("NOT_FOUND", "heartbeat not found")
    return hb


async def by_slug(session: AsyncSession, slug: str) -> Heartbeat:
    hb = (await session.execute(select(Heartbeat).where(Heartbeat.slug == slug))).scalar_one_or_none()
    if hb is None:
        raise AppError("NOT_FOUND", "heartbeat not found")
    return hb


async def _ensure_room(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    # AI heartbeats share the tier's heartbeat allowance (as ai_heartbeats.manage.create counts it).
    await ensure_within_limit(session, tenant_id, "heartbeats",
                              [select(func.count()).select_from(model) for model in (Heartbeat, AiHeartbeat)])


async def _check_interval_floor(session: AsyncSession, tenant_id: uuid.UUID, hb: Heartbeat) -> None:
    """A simple schedule may not be shorter than the tenant's plan allows (cron fires at most every minute)."""
    if hb.cron:
        return
    tier = await tenant_tier(session, tenant_id)
    floor = limits_for(tier).heartbeat_interval_floor_s
    if hb.interval_s < floor:
        raise AppError("VALIDATION_FAILED", "The request did not validate", details={
            "fields": {"interval": f"the {tier} plan allows heartbeat periods of at least {floor} s"},
            "interval_floor_s": floor, "tier": tier})


def _apply_schedule(hb: Heartbeat, data) -> None:
    fields = data.model_fields_set
    if "interval" in fields and data.interval is not None:
        hb.interval_s = data.interval
    if "grace" in fields and data.grace is not None:
        hb.grace_s = data.grace
    if "cron" in fields:
        hb.cron = data.cron
    if "timezone" in fields and data.timezone is not None:
        hb.timezone = data.timezone
    if "max_runtime" in fields:
        hb.max_runtime_s = data.max_runtime
    if "tags" in fields and data.tags is not None:
        hb.tags = data.tags
    if "notify_late" in fields and data.notify_late is not None:
        hb.notify_late = data.notify_late
    hb.kind = "cron" if hb.cron else "simple"


async def create(session: AsyncSession, tenant_id: uuid.UUID, data: HeartbeatCreate) -> Heartbeat:
    await _ensure_room(session, tenant_id)
    if data.slug is not None:
        if await _slug_taken(session, data.slug):
            raise AppError("CONFLICT", "a heartbeat with this slug exists", details={"fields": {"slug": "taken"}})
        slug = data.slug
    else:
        slug = await _free_slug(session, slugify(data.name))
    hb = Heartbeat(tenant_id=tenant_id, name=data.name, slug=slug,
                   interval_s=DEFAULT_INTERVAL_S, grace_s=DEFAULT_GRACE_S)
    _apply_schedule(hb, data)
    await _check_interval_floor(session, tenant_id, hb)
    session.add(hb)
    await session.flush()
    return hb


async def update(session: AsyncSession, hb: Heartbeat, data: HeartbeatUpdate, now: datetime | None = None) -> None:
    now = now or utcnow()
    if data.name is not None:
        hb.name = data.name.strip() or hb.name
    if data.slug is not None and data.slug != hb.slug:
        if await _slug_taken(session, data.slug, exclude=hb.id):
            raise AppError("CONFLICT", "a heartbeat with this slug exists", details={"fields": {"slug": "taken"}})
        hb.slug = data.slug
    _apply_schedule(hb, data)
    if "interval" in data.model_fields_set or "cron" in data.model_fields_set:
        await _check_interval_floor(session, hb.tenant_id, hb)
    # A new schedule moves the pending deadlines; a late heartbeat whose new deadline is still
    # ahead is back in time, which resolves the late warning.
    if hb.status in (S.up, S.late) and hb.last_ping_at is not None:
        hb.late_at, _ = service.schedule_from(hb, hb.last_ping_at)
        if hb.status == S.late and hb.late_at > now:
            hb.status = S.up.value
            service.emit_event(session, hb, "heartbeat.up", now, previous_status=S.late.value,
                               reason="schedule_changed")
    service.arm(hb)  # a new grace also moves the deadline of a run in progress


async def find_or_create_by_name(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                                 interval: int | None, grace: int | None) -> Heartbeat:
    """The compatible dialect addresses jobs by name; the first ping creates the job."""
    stmt = select(Heartbeat).where(Heartbeat.name == name).order_by(Heartbeat.created_at).limit(1)
    hb = (await session.execute(stmt)).scalar_one_or_none()
    if hb is not None:
        return hb
    data = HeartbeatCreate(name=name, interval=interval, grace=grace)
    # SQLite: take the write gate before the SAVEPOINT opens a transaction whose reads (tier, slug) would
    # otherwise hold a snapshot while the gate is awaited — another writer's commit made it stale and the
    # INSERT failed with "database is locked" (503). Re-read under the gate: the other ping may have won.
    await sqlite_gate.hold(session)
    if (hb := (await session.execute(stmt)).scalar_one_or_none()) is not None:
        return hb
    try:
        async with session.begin_nested():
            return await create(session, tenant_id, data)
    except IntegrityError:
        # Two first pings raced on the slug: the other one created it.
        hb = (await session.execute(stmt)).scalar_one_or_none()
        if hb is None:
            raise
        return hb


def set_attribution(hb: Heartbeat, host: str | None, service_name: str | None, project: str | None) -> None:
    for attr, value in (("attr_host", host), ("attr_service", service_name), ("attr_project", project)):
        if value:
            value = value.strip()[:255]
            if value and getattr(hb, attr) != value:
                setattr(hb, attr, value)
