"""Remote probes: registration and prober tokens, assignment claims, region results and quorum.

A probe belongs to one tenant and one region. It authenticates with a prober token
(`xinex_probe_<64 hex>`, shown once, stored as SHA-256), pulls the checks due in its region
(claimed like the platform scheduler's), runs them with the same check code, and posts results.
Each result updates its region's row; the monitor's verdict is the quorum over its regions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor, MonitorRegion, Probe
from xinex.models.monitors import MonitorStatus as S
from xinex.monitors import service
from xinex.monitors.checks import CheckResult
from xinex.monitors.state import aggregate, apply_outcome, lock_monitor, quorum

TOKEN_PREFIX = "xinex_probe_"
ASSIGNMENT_LIMIT = 100
TOUCH_EVERY = timedelta(seconds=30)


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_bytes(32).hex()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def looks_like_probe_token(raw: str) -> bool:
    body = raw[len(TOKEN_PREFIX):]
    return raw.startswith(TOKEN_PREFIX) and len(body) == 64 and all(c in "0123456789abcdef" for c in body)


async def register(session: AsyncSession, tenant_id: uuid.UUID, name: str, region: str) -> tuple[Probe, str]:
    taken = (await session.execute(select(Probe.id).where(Probe.name == name))).first()
    if taken:
        raise AppError("CONFLICT", "a probe with this name exists", details={"fields": {"name": "taken"}})
    raw = new_token()
    probe = Probe(tenant_id=tenant_id, name=name, region=region, token_hash=token_hash(raw),
                  token_prefix=raw[:len(TOKEN_PREFIX) + 6])
    session.add(probe)
    await session.flush()
    return probe, raw


async def get(session: AsyncSession, probe_id: uuid.UUID) -> Probe:
    probe = (await session.execute(select(Probe).where(Probe.id == probe_id))).scalar_one_or_none()
    if probe is None:
        raise AppError("NOT_FOUND", "probe not found")
    return probe


async def authenticate(session: AsyncSession, raw: str | None) -> Probe:
    """The probe a bearer prober token belongs to; binds the session to its tenant."""
    if not raw or not looks_like_probe_token(raw):
        raise AppError("UNAUTHENTICATED", "A valid prober token is required", headers={"WWW-Authenticate": "Bearer"})
    digest = token_hash(raw)
    await system_scope(session, "probes.authenticate")
    probe = (await session.execute(select(Probe).where(Probe.token_hash == digest))).scalar_one_or_none()
    if probe is None or not probe.enabled or not hmac.compare_digest(probe.token_hash, digest):
        raise AppError("UNAUTHENTICATED", "A valid prober token is required", headers={"WWW-Authenticate": "Bearer"})
    await bind_tenant(session, probe.tenant_id)
    now = utcnow()
    if probe.last_seen_at is None or now - probe.last_seen_at > TOUCH_EVERY:
        probe.last_seen_at = now
    return probe


async def claim_assignments(session: AsyncSession, probe: Probe, now: datetime | None = None,
                            limit: int = ASSIGNMENT_LIMIT) -> list[dict]:
    """Checks due in the probe's region (tenant-bound session), claimed so that two probes of a
    region split the work instead of both running it."""
    now = now or utcnow()
    stmt = (select(MonitorRegion, Monitor).join(Monitor, Monitor.id == MonitorRegion.monitor_id)
            .where(MonitorRegion.region == probe.region, MonitorRegion.next_check_at <= now,
                   Monitor.status != S.paused.value)
            .order_by(MonitorRegion.next_check_at).limit(limit))
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=MonitorRegion)
    out = []
    for row, m in (await session.execute(stmt)).all():
        moved = await session.execute(
            update(MonitorRegion).where(MonitorRegion.id == row.id, MonitorRegion.next_check_at == row.next_check_at)
            .values(next_check_at=now + timedelta(seconds=m.interval_s) + service.jitter(m.interval_s))
            .execution_options(synchronize_session=False))
        if moved.rowcount == 1:
            out.append({**service.spec_of(m), "region": probe.region})
    return out


async def record_region_result(session: AsyncSession, probe: Probe, monitor_id: uuid.UUID,
                               result: CheckResult) -> dict:
    """Fold one region's result into the monitor (locked); a re-posted check id is a no-op."""
    m = await lock_monitor(session, monitor_id)
    if m is None:
        raise AppError("NOT_FOUND", "monitor not found")
    row = (await session.execute(select(MonitorRegion).where(
        MonitorRegion.monitor_id == monitor_id, MonitorRegion.region == probe.region))).scalar_one_or_none()
    if row is None:
        raise AppError("NOT_FOUND", "monitor is not checked in this probe's region")
    if row.last_check_id == result.check_id:
        return {"monitor_id": str(monitor_id), "accepted": False, "duplicate": True, "status": m.status}
    if m.status == S.paused:
        return {"monitor_id": str(monitor_id), "accepted": False, "duplicate": False, "status": m.status}
    row.last_check_id = result.check_id
    row.last_checked_at = result.checked_at
    row.last_result = result.status
    row.last_latency_ms = result.latency_ms
    row.last_status_code = result.status_code
    row.last_error = result.error[:500] or None
    row.last_reason = result.reason[:60] if result.reason else None
    row.probe_id = probe.id
    await session.flush()
    q = await quorum(session, m)
    combined = aggregate(q, result)
    apply_outcome(session, m, combined, summary={"regions": q.regions, "failing_regions": q.failing})
    return {"monitor_id": str(monitor_id), "accepted": True, "duplicate": False, "status": m.status}
