"""The heartbeat use cases. Pings of the native and compat dialects land in `record_ping`; the hot
`/ping/{uuid}` path is served by `router.PingFastPath` → `intake` → `writer` (group commit) → `apply`. The
sweeper and the pings share `transitions._apply_status`, which writes the outbox event in the same
transaction as the state.

Semantics follow healthchecks.io: new -> up on the first success; up -> late when the expected
ping is overdue; late -> down when grace runs out; a fail ping (or a non-zero exit code) -> down
at once; a success ping from late/down -> up; a log ping is stored and changes nothing; a
success/fail ping to a paused heartbeat un-pauses it. A start opens the "running" state
(`last_start_at`): a run that has not ended within grace of its start makes the heartbeat down
whatever its schedule says (healthchecks' `going_down_after`).

Paging follows healthchecks too: `late` (the grace period) is a status to show, not an alert; the
`heartbeat.down` event is the one that pages. A heartbeat with `notify_late` also emits
`heartbeat.late` (and the matching `heartbeat.up` when it recovers from late).

Below the engine: the API's use cases (create, the versioned update and delete, pause/resume, runs and
pings, each with its audit record) and the compatible dialect's create-on-first-ping.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.heartbeats import apply as batch
from xinex.heartbeats.apply import Applied as PingResult
from xinex.heartbeats.repository import HeartbeatRepository
from xinex.heartbeats.schemas import (
    Attribution,
    HeartbeatCreate,
    HeartbeatOut,
    HeartbeatUpdate,
    PingOut,
    RunOut,
)
from xinex.heartbeats.transitions import (
    DEFAULT_PING_BODY_LIMIT as DEFAULT_PING_BODY_LIMIT,
)
from xinex.heartbeats.transitions import (
    EVENT_SEVERITY as EVENT_SEVERITY,
)
from xinex.heartbeats.transitions import (
    KEEP_PINGS as KEEP_PINGS,
)
from xinex.heartbeats.transitions import (
    KEEP_RUNS as KEEP_RUNS,
)
from xinex.heartbeats.transitions import (
    KEEP_UNEXPORTED_PINGS as KEEP_UNEXPORTED_PINGS,
)
from xinex.heartbeats.transitions import (
    PING_KINDS as PING_KINDS,
)
from xinex.heartbeats.transitions import (
    PRUNE_EVERY as PRUNE_EVERY,
)
from xinex.heartbeats.transitions import (
    PingInput as PingInput,
)
from xinex.heartbeats.transitions import (  # re-exported: callers know them as service.*
    _apply_status as _apply_status,
)
from xinex.heartbeats.transitions import (
    arm as arm,
)
from xinex.heartbeats.transitions import (
    down_details as down_details,
)
from xinex.heartbeats.transitions import (
    down_reason as down_reason,
)
from xinex.heartbeats.transitions import (
    emit_event as emit_event,
)
from xinex.heartbeats.transitions import (
    kind_for_exit_code as kind_for_exit_code,
)
from xinex.heartbeats.transitions import (
    ping_words as ping_words,
)
from xinex.heartbeats.transitions import (
    schedule_from as schedule_from,
)
from xinex.identity.principal import Principal
from xinex.kit import sqlite_gate
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams, paginate
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_within_limit, tenant_tier


async def record_ping(session: AsyncSession, hb_id: uuid.UUID, ping: PingInput,
                      now: datetime | None = None, *, throttle=None) -> PingResult:
    """Store one ping and apply it. The caller's unit of work commits it before acknowledging.
    Unknown (or other-tenant) heartbeat ids -> NOT_FOUND; over the heartbeat's ping rate (and not
    a state change) -> RATE_LIMITED."""
    validate(ping)
    item = batch.PendingPing(hb_id, ping, now or utcnow())
    states = await batch.locate(session, [item], by_ping_id=False)
    (result,) = await batch.apply(session, [item], states, throttle=throttle)
    if result is None:
        raise AppError("NOT_FOUND", "heartbeat not found")
    if isinstance(result, batch.Throttled):
        raise throttled_error(result.retry_after)
    return result


def throttled_error(retry_after: float) -> AppError:
    from xinex.heartbeats.throttle import retry_after_header

    seconds = retry_after_header(retry_after)
    return AppError("RATE_LIMITED", "too many pings for this heartbeat; retry after Retry-After seconds",
                    details={"retry_after": int(seconds)}, headers={"Retry-After": seconds})


def validate(ping: PingInput) -> None:
    if ping.kind not in PING_KINDS:
        raise AppError("VALIDATION_FAILED", details={"fields": {"status": f"must be one of {', '.join(PING_KINDS)}"}})
    if ping.exit_code is not None:
        kind_for_exit_code(ping.exit_code)


# --- transitions shared with the sweeper -------------------------------------------------------

async def flag_ran_too_long(session: AsyncSession, run: HeartbeatRun, hb: Heartbeat, now: datetime) -> bool:
    """The run passed its max runtime: flagged (and announced). On a heartbeat that is down, a run past
    its grace is also given up (`timeout`, ended now): no deadline of a down heartbeat would close it."""
    given_up = hb.status == S.down and run.started_at + timedelta(seconds=hb.grace_s) <= now
    result = await session.execute(
        sql_update(HeartbeatRun)
        .where(HeartbeatRun.id == run.id, HeartbeatRun.timeout_at == run.timeout_at,
               HeartbeatRun.outcome == "running")
        .values(timeout_at=None, ran_too_long=True,
                **({"outcome": "timeout", "ended_at": now, "updated_at": now} if given_up else {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    emit_event(session, hb, "heartbeat.ran_too_long", now, run_id=run.run_id,
               started_at=run.started_at.isoformat(), max_runtime_s=hb.max_runtime_s)
    return True


# --- pause / resume ---------------------------------------------------------------------------

def pause(hb: Heartbeat) -> None:
    # Like healthchecks: paused means no deadline and no running state; a later start re-arms it.
    hb.status = S.paused.value
    hb.late_at = hb.down_at = hb.alert_after = hb.last_start_at = None


async def ensure_room_to_resume(session: AsyncSession, hb: Heartbeat) -> None:
    """A heartbeat a downgrade paused (paused_reason "tier_limit") resumes only within the plan's limit."""
    if hb.status == S.paused and hb.paused_reason == "tier_limit":
        await ensure_within_limit(session, hb.tenant_id, "heartbeats", HeartbeatRepository(session).count_running())


def resume(hb: Heartbeat) -> None:
    # Like healthchecks: a resumed heartbeat waits for its next ping as a new one.
    if hb.status == S.paused:
        hb.status = S.new.value
        hb.paused_reason = None
        hb.late_at = hb.down_at = hb.alert_after = hb.last_start_at = None


# --- the API's use cases ------------------------------------------------------------------------------

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
    return await HeartbeatRepository(session).slug_taken(slug, exclude)


async def _free_slug(session: AsyncSession, base: str) -> str:
    slug, n = base, 1
    while await _slug_taken(session, slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


async def get(session: AsyncSession, hb_id: uuid.UUID) -> Heartbeat:
    return await HeartbeatRepository(session).get_or_404(hb_id)


async def by_slug(session: AsyncSession, slug: str) -> Heartbeat:
    return await HeartbeatRepository(session).by_slug_or_404(slug)


async def _ensure_room(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    # AI heartbeats share the tier's heartbeat allowance (as ai_heartbeats.service.create counts it).
    await ensure_within_limit(session, tenant_id, "heartbeats", HeartbeatRepository.counted_against_limit())


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
        hb.late_at, _ = schedule_from(hb, hb.last_ping_at)
        if hb.status == S.late and hb.late_at > now:
            hb.status = S.up.value
            emit_event(session, hb, "heartbeat.up", now, previous_status=S.late.value,
                               reason="schedule_changed")
    arm(hb)  # a new grace also moves the deadline of a run in progress


async def find_or_create_by_name(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                                 interval: int | None, grace: int | None) -> Heartbeat:
    """The compatible dialect addresses jobs by name; the first ping creates the job."""
    repo = HeartbeatRepository(session)
    hb = await repo.first_by_name(name)
    if hb is not None:
        return hb
    data = HeartbeatCreate(name=name, interval=interval, grace=grace)
    # SQLite: take the write gate before the SAVEPOINT opens a transaction whose reads (tier, slug) would
    # otherwise hold a snapshot while the gate is awaited — another writer's commit made it stale and the
    # INSERT failed with "database is locked" (503). Re-read under the gate: the other ping may have won.
    await sqlite_gate.hold(session)
    if (hb := await repo.first_by_name(name)) is not None:
        return hb
    try:
        async with session.begin_nested():
            return await create(session, tenant_id, data)
    except IntegrityError:
        # Two first pings raced on the slug: the other one created it.
        hb = await repo.first_by_name(name)
        if hb is None:
            raise
        return hb


def set_attribution(hb: Heartbeat, host: str | None, service_name: str | None, project: str | None) -> None:
    for attr, value in (("attr_host", host), ("attr_service", service_name), ("attr_project", project)):
        if value:
            value = value.strip()[:255]
            if value and getattr(hb, attr) != value:
                setattr(hb, attr, value)


async def list_page(session: AsyncSession, params: PageParams, public_url: str, *, status: str | None,
                    tag: str | None) -> Page[HeartbeatOut]:
    repo = HeartbeatRepository(session)
    return await repo.page(params, repo.filtered(status=status, tag=tag), out=lambda hb: to_out(hb, public_url))


async def create_audited(session: AsyncSession, tenant_id: uuid.UUID, data: HeartbeatCreate, *,
                         audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> Heartbeat:
    hb = await create(session, tenant_id, data)
    audit.record(session, "heartbeat.created", context=audit_ctx, principal=principal, target_type="heartbeat",
                 target_id=hb.id, details={"name": hb.name, "slug": hb.slug})
    return hb


async def update_checked(session: AsyncSession, hb_id: uuid.UUID, data: HeartbeatUpdate, if_match: str | None, *,
                         audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> Heartbeat:
    """The versioned update of the API: a stale If-Match is a 412 before anything changes."""
    return await HeartbeatRepository(session).update_checked(
        hb_id, if_match, lambda hb: update(session, hb, data),
        audit=lambda hb: audit.record(session, "heartbeat.updated", context=audit_ctx, principal=principal,
                                      target_type="heartbeat", target_id=hb.id,
                                      details={"fields": sorted(data.model_fields_set)}),
        refresh=True)


async def delete(session: AsyncSession, hb_id: uuid.UUID, if_match: str | None, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> None:
    """Delete a heartbeat; its ping URLs answer 404 from then on."""
    await HeartbeatRepository(session).delete_checked(hb_id, if_match, audit=lambda hb: audit.record(
        session, "heartbeat.deleted", context=audit_ctx, principal=principal, target_type="heartbeat", target_id=hb.id,
        details={"name": hb.name}))


async def set_paused(session: AsyncSession, hb_id: uuid.UUID, paused: bool, *, audit_ctx: AuditContext | None = None,
                     principal: Principal | None = None) -> Heartbeat:
    hb = await get(session, hb_id)
    if not paused:
        await ensure_room_to_resume(session, hb)
    pause(hb) if paused else resume(hb)
    audit.record(session, "heartbeat.paused" if paused else "heartbeat.resumed", context=audit_ctx,
                 principal=principal, target_type="heartbeat", target_id=hb.id)
    await session.flush()
    await session.refresh(hb)
    return hb


async def runs_page(session: AsyncSession, hb_id: uuid.UUID, params: PageParams) -> Page[RunOut]:
    await get(session, hb_id)
    items, total = await paginate(session, HeartbeatRepository.runs(hb_id), params)
    return Page.of([RunOut.model_validate(r, from_attributes=True) for r in items], total, params)


async def pings_page(session: AsyncSession, hb_id: uuid.UUID, params: PageParams,
                     kind: str | None) -> Page[PingOut]:
    await get(session, hb_id)
    items, total = await paginate(session, HeartbeatRepository.pings(hb_id, kind), params)
    return Page.of([PingOut.model_validate(p, from_attributes=True) for p in items], total, params)
