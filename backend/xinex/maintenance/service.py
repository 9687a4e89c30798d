"""Maintenance windows' use cases: create/update/delete (with their audit records), which windows cover a
source, roll-forward.

Scope semantics (shared with the incident engine's time-range lookup on the same rows): a window
with no ids and no tags covers everything; ids (monitors and heartbeats together) and tags
narrow together: the source's id must be listed (if ids are given) and share a tag (if tags are).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.maintenance.repository import WindowRepository, WindowRow
from xinex.maintenance.schedule import Series, current_or_next, merge, occurrence_at, occurrences
from xinex.maintenance.schemas import Occurrence, WindowIn, WindowOut
from xinex.models.incidents import MaintenanceWindow
from xinex.models.maintenance import MaintenanceSchedule


def series_of(w: MaintenanceWindow, sched: MaintenanceSchedule | None) -> Series:
    if sched is None or sched.kind != "recurring":
        return Series("once", w.starts_at, w.ends_at)
    return Series("recurring", sched.series_starts_at, sched.series_ends_at, sched.cron, sched.timezone,
                  timedelta(minutes=sched.duration_minutes or 0))


def matches(w: MaintenanceWindow, source_type: str, source_id: uuid.UUID | None, tags: list[str]) -> bool:
    if w.source_type and w.source_type != source_type:
        return False
    if w.source_ids and str(source_id) not in {str(i) for i in w.source_ids}:
        return False
    return not w.tags or bool(set(w.tags) & set(tags or []))


def to_out(w: MaintenanceWindow, sched: MaintenanceSchedule | None, now: datetime | None = None) -> WindowOut:
    now = now or utcnow()
    series = series_of(w, sched)
    upcoming = current_or_next(series, now)
    if sched is not None:
        monitor_ids, heartbeat_ids = sched.monitor_ids, sched.heartbeat_ids
    else:  # created through the incidents API: one id list with an optional source type
        monitor_ids = w.source_ids if w.source_type in (None, "monitor") else []
        heartbeat_ids = w.source_ids if w.source_type == "heartbeat" else []
    rec = sched if series.kind == "recurring" else None  # a recurring series always has its schedule row
    return WindowOut(
        id=w.id, tenant_id=w.tenant_id, name=w.name, description=w.description,
        kind="recurring" if rec else "once",
        starts_at=rec.series_starts_at if rec else w.starts_at,
        ends_at=rec.series_ends_at if rec else w.ends_at,
        cron=rec.cron if rec else None, timezone=sched.timezone if sched else "UTC",
        duration_minutes=rec.duration_minutes if rec else None,
        monitor_ids=list(monitor_ids), heartbeat_ids=list(heartbeat_ids), tags=list(w.tags or []),
        active=occurrence_at(series, now) is not None,
        current_or_next=Occurrence(starts_at=upcoming[0], ends_at=upcoming[1]) if upcoming else None,
        created_at=w.created_at, updated_at=max(w.updated_at, sched.updated_at) if sched else w.updated_at,
    )


async def get(session: AsyncSession, window_id: uuid.UUID) -> WindowRow:
    return await WindowRepository(session).get_with_schedule(window_id)


async def list_page(session: AsyncSession, params: PageParams) -> Page[WindowOut]:
    rows, total = await WindowRepository(session).page_with_schedules(params)
    now = utcnow()
    return Page.of([to_out(w, s, now) for w, s in rows], total, params)


async def active_page(session: AsyncSession, params: PageParams, *, at: datetime, source_type: str | None,
                      source_id: uuid.UUID | None, tags: list[str]) -> Page[WindowOut]:
    windows = await active_windows(session, source_type=source_type, source_id=source_id, tags=tags, at=at)
    page = windows[params.offset:params.offset + params.per_page]
    scheds = await WindowRepository(session).schedules_of([w.id for w in page])
    return Page.of([to_out(w, scheds.get(w.id), at) for w in page], len(windows), params)


def _place(w: MaintenanceWindow, series: Series, now: datetime) -> None:
    """Keep the row's [starts_at, ends_at) on the current or next occurrence (see models/maintenance)."""
    if series.kind != "recurring":
        return
    upcoming = current_or_next(series, now)
    if upcoming is None:  # the series is over: an empty interval never matches
        w.starts_at = w.ends_at = series.ends_at or series.starts_at
    else:
        w.starts_at, w.ends_at = upcoming


async def _check_scope(session: AsyncSession, data: WindowIn) -> None:
    bad: dict[str, str] = {}
    for field, kind in (("monitor_ids", "monitor"), ("heartbeat_ids", "heartbeat")):
        missing = await WindowRepository(session).missing_sources(kind, getattr(data, field))
        if missing:
            bad[field] = f"unknown {kind} ids: {', '.join(str(i) for i in missing[:5])}"
    if bad:
        raise AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": bad})


def _apply(w: MaintenanceWindow, sched: MaintenanceSchedule, data: WindowIn, now: datetime) -> None:
    w.name, w.description, w.tags = data.name, data.description, list(data.tags)
    w.source_type = None
    w.source_ids = [str(i) for i in [*data.monitor_ids, *data.heartbeat_ids]]
    sched.kind = data.kind
    sched.cron, sched.timezone = data.cron, data.timezone
    sched.duration_minutes = data.duration_minutes
    sched.monitor_ids = [str(i) for i in data.monitor_ids]
    sched.heartbeat_ids = [str(i) for i in data.heartbeat_ids]
    if data.kind == "recurring":
        sched.series_starts_at = data.starts_at or now
        sched.series_ends_at = data.ends_at
    else:
        assert data.starts_at is not None and data.ends_at is not None  # WindowIn's own rule for a one-off window
        w.starts_at, w.ends_at = data.starts_at, data.ends_at
        sched.series_starts_at, sched.series_ends_at = data.starts_at, data.ends_at
    _place(w, series_of(w, sched), now)
    w.updated_at = sched.updated_at = now


async def create(session: AsyncSession, data: WindowIn, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> tuple[MaintenanceWindow, MaintenanceSchedule]:
    await _check_scope(session, data)
    now = utcnow()
    w = MaintenanceWindow(name=data.name, starts_at=now, ends_at=now)
    sched = MaintenanceSchedule(window_id=w.id, series_starts_at=now)
    _apply(w, sched, data, now)
    session.add(w)
    await session.flush()
    session.add(sched)
    await session.flush()
    audit.record(session, "maintenance_window.created", context=audit_ctx, principal=principal,
                 target_type="maintenance_window", target_id=w.id, details={"name": w.name, "kind": sched.kind})
    return w, sched


async def update(session: AsyncSession, window_id: uuid.UUID, data: WindowIn, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> WindowRow:
    """Replace a window's definition; a stale If-Match is a 412 before anything is checked or changed."""
    repo = WindowRepository(session)
    w, existing = await repo.get_with_schedule(window_id)
    sched = existing or MaintenanceSchedule(window_id=w.id, series_starts_at=w.starts_at)

    async def change(w: MaintenanceWindow) -> None:
        await _check_scope(session, data)
        if existing is None:
            session.add(sched)
        _apply(w, sched, data, utcnow())

    await repo.update_checked(w, if_match, change, audit=lambda w: audit.record(
        session, "maintenance_window.updated", context=audit_ctx, principal=principal,
        target_type="maintenance_window", target_id=w.id, details={"name": w.name, "kind": sched.kind}))
    return w, sched


async def delete(session: AsyncSession, window_id: uuid.UUID, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    """Delete a window; its schedule row goes with it (ON DELETE CASCADE)."""
    await WindowRepository(session).delete_checked(window_id, if_match, audit=lambda w: audit.record(
        session, "maintenance_window.deleted", context=audit_ctx, principal=principal,
        target_type="maintenance_window", target_id=w.id, details={"name": w.name}))


async def active_windows(session: AsyncSession, *, source_type: str | None, source_id: uuid.UUID | None,
                         tags: list[str] | None, at: datetime) -> list[MaintenanceWindow]:
    """Windows in progress at `at` that cover this source (source_type None: any window at all)."""
    found = []
    for w, sched in await WindowRepository(session).candidates(at, at + timedelta(microseconds=1)):
        if source_type is not None and not matches(w, source_type, source_id, tags or []):
            continue
        if occurrence_at(series_of(w, sched), at) is not None:
            found.append(w)
    return found


async def source_tags(session: AsyncSession, monitor_id: uuid.UUID) -> list[str] | None:
    """A monitor's tags (what maintenance windows match on), or None when the caller has no such monitor."""
    return await WindowRepository(session).monitor_tags(monitor_id)


async def is_in_maintenance(session: AsyncSession, source_type: str, source_id: uuid.UUID | None,
                            tags: list[str] | None, at: datetime) -> bool:
    return bool(await active_windows(session, source_type=source_type, source_id=source_id, tags=tags, at=at))


async def maintenance_intervals(session: AsyncSession, *, source_type: str, source_id: uuid.UUID,
                                tags: list[str], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Merged intervals within [start, end) during which this source was in maintenance."""
    spans = []
    for w, sched in await WindowRepository(session).candidates(start, end):
        if matches(w, source_type, source_id, tags):
            spans += [(max(s, start), min(e, end)) for s, e in occurrences(series_of(w, sched), start, end)]
    return merge([s for s in spans if s[0] < s[1]])


async def roll_forward(session: AsyncSession, now: datetime | None = None) -> int:
    """Move every recurring row whose occurrence has ended onto its next one (system scope)."""
    now = now or utcnow()
    rows = await WindowRepository(session).due_to_roll(now)
    moved = 0
    for w, sched in rows:
        before = (w.starts_at, w.ends_at)
        _place(w, series_of(w, sched), now)
        if (w.starts_at, w.ends_at) != before:
            moved += 1
    return moved
