"""Monitor CRUD decisions: validation against the tier (count, interval floor, regions), the
literal-address guard, pause/resume and the per-region rows of multi-region monitors."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import outbound
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor, MonitorRegion, Probe
from xinex.models.monitors import MonitorStatus as S
from xinex.monitors.schemas import COMMON_FIELDS, MASK, MONITOR_IN, SECRET_HEADERS, MonitorOut, MonitorUpdate
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_feature, ensure_within_limit, tenant_tier

# Common input field -> model attribute.
COLUMN_OF = {"interval": "interval_s", "timeout": "timeout_s"}


def validation_failed(fields: dict[str, str], **details: Any) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": fields, **details})


def parse(body: dict[str, Any]):
    """Validate a flat monitor body; pydantic errors leave as VALIDATION_FAILED with each field."""
    try:
        return MONITOR_IN.validate_python(body)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if str(p) not in ("http", "tcp", "dns", "tls")]
            fields.setdefault(".".join(loc) or "type", err.get("msg", "invalid"))
        raise validation_failed(fields) from None


def flat(m: Monitor) -> dict[str, Any]:
    """The monitor as a flat input body (what PUT merges into)."""
    return {"type": m.type, "name": m.name, "interval": m.interval_s, "timeout": m.timeout_s,
            "latency_threshold_ms": m.latency_threshold_ms, "confirmation_period": m.confirmation_period,
            "recovery_period": m.recovery_period, "regions": list(m.regions or []), "tags": list(m.tags or []),
            **(m.config or {})}


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    if out.get("headers"):
        out["headers"] = {k: (MASK if k.lower() in SECRET_HEADERS else v) for k, v in out["headers"].items()}
    return out


def to_out(m: Monitor) -> MonitorOut:
    return MonitorOut(
        id=m.id, tenant_id=m.tenant_id, name=m.name, type=m.type, interval=m.interval_s, timeout=m.timeout_s,
        latency_threshold_ms=m.latency_threshold_ms, confirmation_period=m.confirmation_period,
        recovery_period=m.recovery_period, regions=list(m.regions or []), tags=list(m.tags or []),
        status=m.status, paused=m.status == S.paused, paused_reason=m.paused_reason, status_changed_at=m.status_changed_at,
        next_check_at=m.next_check_at, last_checked_at=m.last_checked_at, last_result=m.last_result,
        last_latency_ms=m.last_latency_ms, last_status_code=m.last_status_code, last_error=m.last_error,
        created_at=m.created_at, updated_at=m.updated_at, **masked_config(m.config or {}),
    )


def spec_of(m: Monitor) -> dict[str, Any]:
    """What a check runner needs (also sent to remote probes)."""
    return {"monitor_id": str(m.id), "type": m.type, "config": dict(m.config or {}), "timeout": m.timeout_s,
            "latency_threshold_ms": m.latency_threshold_ms, "interval": m.interval_s}


def jitter(interval_s: int) -> timedelta:
    """Spread checks that share an interval: up to 5% of it, at most 5 s."""
    return timedelta(seconds=random.uniform(0, min(5.0, interval_s * 0.05)))


async def get(session: AsyncSession, monitor_id: uuid.UUID) -> Monitor:
    m = (await session.execute(select(Monitor).where(Monitor.id == monitor_id))).scalar_one_or_none()
    if m is None:
        raise AppError("NOT_FOUND", "monitor not found")
    return m


async def _guard_targets(data, allow_private: bool) -> None:
    """Refuse a target no check could ever reach under the platform's policy: a refused address
    literal, or (checked by the platform, not a remote probe with its own network and policy) a
    name resolving to refused addresses now. Names are vetted again at every check."""
    field = {"http": "url", "tcp": "host", "tls": "host", "dns": "nameserver"}[data.type]
    try:
        if data.type == "http":
            parsed = outbound.check_url(data.url, allow_private=allow_private)
            host, port = parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80)
        else:
            host, port = getattr(data, field, None), int(getattr(data, "port", None) or 53)
        if not host:
            return
        if data.regions:
            ip = outbound.literal_ip(host)
            if ip is not None:
                outbound.vet_ip(str(ip), allow_private)
        else:
            await outbound.refuse_unreachable_host(host, port, allow_private=allow_private)
    except outbound.OutboundError as exc:
        raise validation_failed({field: f"target refused: {exc}"}, reason=exc.reason) from None


async def _check_against_tier(session: AsyncSession, tenant_id: uuid.UUID, data) -> None:
    tier = await tenant_tier(session, tenant_id)
    floor = limits_for(tier).check_interval_floor_s
    if data.interval < floor:
        raise validation_failed({"interval": f"the {tier} plan checks at most every {floor} s"},
                                interval_floor_s=floor, tier=tier)
    if len(data.regions) > 1:
        await ensure_feature(session, tenant_id, "multi_region_probes")
    if data.regions:
        known = set((await session.execute(select(Probe.region).where(Probe.enabled.is_(True)))).scalars().all())
        missing = [r for r in data.regions if r not in known]
        if missing:
            raise validation_failed({"regions": f"no probe registered for: {', '.join(missing)}"},
                                    known_regions=sorted(known))


def _apply(m: Monitor, data) -> None:
    body = data.model_dump()
    for key in ("name", "interval", "timeout", "latency_threshold_ms", "confirmation_period", "recovery_period",
                "regions", "tags"):
        setattr(m, COLUMN_OF.get(key, key), body[key])
    m.type = data.type
    m.config = {k: v for k, v in body.items() if k not in COMMON_FIELDS}


async def _sync_regions(session: AsyncSession, m: Monitor, now: datetime) -> None:
    """One row per region; the platform scheduler only runs monitors without regions."""
    rows = (await session.execute(select(MonitorRegion).where(MonitorRegion.monitor_id == m.id))).scalars().all()
    have = {r.region: r for r in rows}
    wanted = list(m.regions or [])
    gone = [r.id for name, r in have.items() if name not in wanted]
    if gone:
        await session.execute(delete(MonitorRegion).where(MonitorRegion.id.in_(gone)))
    active = m.status != S.paused
    for region in wanted:
        row = have.get(region)
        if row is None:
            row = MonitorRegion(tenant_id=m.tenant_id, monitor_id=m.id, region=region)
            session.add(row)
        row.next_check_at = now if active else None
    m.next_check_at = now if active and not wanted else None


async def create(session: AsyncSession, tenant_id: uuid.UUID, body: dict[str, Any], *, allow_private: bool,
                 now: datetime | None = None) -> Monitor:
    now = now or utcnow()
    data = parse(body)
    await ensure_within_limit(session, tenant_id, "monitors", select(func.count()).select_from(Monitor))
    await _check_against_tier(session, tenant_id, data)
    await _guard_targets(data, allow_private)
    m = Monitor(tenant_id=tenant_id, name=data.name, type=data.type)
    _apply(m, data)
    if data.paused:
        m.status = S.paused.value
    session.add(m)
    await session.flush()
    await _sync_regions(session, m, now)
    return m


async def update(session: AsyncSession, m: Monitor, data: MonitorUpdate, *, allow_private: bool,
                 now: datetime | None = None) -> None:
    now = now or utcnow()
    given = data.model_dump(exclude_unset=True)
    if given.get("type") not in (None, m.type):
        current = {k: v for k, v in flat(m).items() if k in COMMON_FIELDS}  # new type: drop the old fields
    else:
        current = flat(m)
    if isinstance(given.get("headers"), dict):
        old = (m.config or {}).get("headers") or {}
        given["headers"] = {k: (old.get(k, v) if v == MASK else v) for k, v in given["headers"].items()}
    merged = {**current, **given}  # an explicit null clears an optional field (keyword, body, …)
    parsed = parse(merged)
    await _check_against_tier(session, m.tenant_id, parsed)
    await _guard_targets(parsed, allow_private)
    changed_schedule = (parsed.interval != m.interval_s or parsed.regions != list(m.regions or []))
    target_changed = parsed.type != m.type or {k: v for k, v in parsed.model_dump().items()
                                               if k not in COMMON_FIELDS} != (m.config or {})
    _apply(m, parsed)
    if target_changed:
        _reset(m)  # results about the old target say nothing about the new one
    if changed_schedule or target_changed:
        await _sync_regions(session, m, now)


def _reset(m: Monitor) -> None:
    if m.status != S.paused:
        m.status = S.pending.value
    m.streak_result, m.streak_count, m.ok_streak = None, 0, 0


async def pause(session: AsyncSession, m: Monitor, now: datetime | None = None) -> None:
    m.status = S.paused.value
    m.status_changed_at = now or utcnow()
    await _sync_regions(session, m, now or utcnow())


async def resume(session: AsyncSession, m: Monitor, now: datetime | None = None) -> None:
    if m.status != S.paused:
        return
    m.status = S.pending.value
    m.paused_reason = None
    m.status_changed_at = now or utcnow()
    _reset(m)
    await _sync_regions(session, m, now or utcnow())
