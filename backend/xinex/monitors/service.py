"""The monitors use cases: monitor CRUD (validation against the tier — count, interval floor, regions —,
the literal-address guard, pause/resume, the per-region rows of multi-region monitors), status and check
history, and remote probes (registration, prober tokens, assignment claims, region results and quorum),
each with its audit record. Queries are in repository.py; the state machine in state.py.

A probe belongs to one tenant and one region. It authenticates with a prober token
(`xinex_probe_<64 hex>`, shown once, stored as SHA-256), pulls the checks due in its region
(claimed like the platform scheduler's), runs them with the same check code, and posts results.
Each result updates its region's row; the monitor's verdict is the quorum over its regions.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.identity.secrets import PROBER_TOKEN_PREFIX
from xinex.kit import outbound
from xinex.kit.db import commit
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor, MonitorRegion, Probe
from xinex.models.monitors import MonitorStatus as S
from xinex.monitors import repository
from xinex.monitors.checks import CheckResult
from xinex.monitors.repository import MonitorRepository, ProbeRepository
from xinex.monitors.schemas import (
    COMMON_FIELDS,
    MASK,
    MONITOR_IN,
    SECRET_HEADERS,
    Advisory,
    CheckOut,
    LastCheck,
    MonitorOut,
    MonitorStatusOut,
    MonitorUpdate,
    ProbeOut,
    RegionStatus,
    ResultsIn,
)
from xinex.monitors.state import aggregate, apply_outcome, quorum
from xinex.tiers.catalog import limits_for
from xinex.tiers.service import ensure_feature, ensure_within_limit, history_retention_days, tenant_tier
from xinex.timeseries.store import TimeSeriesError, TimeSeriesStore

TOKEN_PREFIX = PROBER_TOKEN_PREFIX  # the identity layer resolves these tokens (identity/credentials.py)
ASSIGNMENT_LIMIT = 100

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
    return await MonitorRepository(session).get_or_404(monitor_id)


async def list_page(session: AsyncSession, params: PageParams, *, status: str | None, type: str | None,
                    q: str | None, tag: str | None) -> Page[MonitorOut]:
    repo = MonitorRepository(session)
    return await repo.page(params, repo.filtered(status=status, type=type, q=q, tag=tag), out=to_out)


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
        known = await ProbeRepository(session).enabled_regions()
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
    repo = MonitorRepository(session)
    have = {r.region: r for r in await repo.regions_of(m.id)}
    wanted = list(m.regions or [])
    gone = [r.id for name, r in have.items() if name not in wanted]
    if gone:
        await repo.drop_regions(gone)
    active = m.status != S.paused
    for region in wanted:
        row = have.get(region)
        if row is None:
            row = MonitorRegion(tenant_id=m.tenant_id, monitor_id=m.id, region=region)
            session.add(row)
        row.next_check_at = now if active else None
    m.next_check_at = now if active and not wanted else None


async def create(session: AsyncSession, tenant_id: uuid.UUID, body: dict[str, Any], *, allow_private: bool,
                 now: datetime | None = None, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> Monitor:
    now = now or utcnow()
    data = parse(body)
    await ensure_within_limit(session, tenant_id, "monitors", MonitorRepository(session).count())
    await _check_against_tier(session, tenant_id, data)
    await _guard_targets(data, allow_private)
    m = Monitor(tenant_id=tenant_id, name=data.name, type=data.type)
    _apply(m, data)
    if data.paused:
        m.status = S.paused.value
    session.add(m)
    await session.flush()
    await _sync_regions(session, m, now)
    audit.record(session, "monitor.created", context=audit_ctx, principal=principal, target_type="monitor",
                 target_id=m.id, details={"name": m.name, "type": m.type})
    return m


async def update_checked(session: AsyncSession, monitor_id: uuid.UUID, data: MonitorUpdate, if_match: str | None, *,
                         allow_private: bool, audit_ctx: AuditContext | None = None,
                         principal: Principal | None = None) -> Monitor:
    """The versioned update of the API: a stale If-Match is a 412 before anything is checked."""
    return await MonitorRepository(session).update_checked(
        monitor_id, if_match, lambda m: update(session, m, data, allow_private=allow_private),
        audit=lambda m: audit.record(session, "monitor.updated", context=audit_ctx, principal=principal,
                                     target_type="monitor", target_id=m.id,
                                     details={"fields": sorted(data.model_dump(exclude_unset=True))}),
        refresh=True)


async def delete(session: AsyncSession, monitor_id: uuid.UUID, if_match: str | None, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> None:
    """Delete a monitor and stop its checks; its history in the store expires on its own."""
    await MonitorRepository(session).delete_checked(monitor_id, if_match, audit=lambda m: audit.record(
        session, "monitor.deleted", context=audit_ctx, principal=principal, target_type="monitor", target_id=m.id,
        details={"name": m.name}))


async def set_paused(session: AsyncSession, monitor_id: uuid.UUID, paused: bool, *, audit_ctx: AuditContext | None = None,
                     principal: Principal | None = None) -> Monitor:
    m = await get(session, monitor_id)
    await (pause(session, m) if paused else resume(session, m))
    audit.record(session, "monitor.paused" if paused else "monitor.resumed", context=audit_ctx, principal=principal,
                 target_type="monitor", target_id=m.id)
    await session.flush()
    await session.refresh(m)
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
    if m.paused_reason == "tier_feature":  # multi-region, paused by a downgrade: only on a plan with probes
        await ensure_feature(session, m.tenant_id, "multi_region_probes")
    if m.paused_reason == "tier_limit":  # paused by a downgrade: only within the plan's limit
        await ensure_within_limit(session, m.tenant_id, "monitors", MonitorRepository(session).count_running(m.tenant_id))
    m.status = S.pending.value
    m.paused_reason = None
    m.status_changed_at = now or utcnow()
    _reset(m)
    await _sync_regions(session, m, now or utcnow())


# --- status and check history ---------------------------------------------------------------------

async def status_of(session: AsyncSession, m: Monitor) -> MonitorStatusOut:
    """Where the monitor stands: verdict, last check, each region's last result, advisories."""
    rows = await MonitorRepository(session).regions_of(m.id)
    regions = [RegionStatus(region=r.region, result=r.last_result, checked_at=r.last_checked_at,
                            latency_ms=r.last_latency_ms, status_code=r.last_status_code, error=r.last_error,
                            reason=r.last_reason) for r in rows]
    advisories: list[Advisory] = []
    if m.regions:
        q = await quorum(session, m)
        if q.below_quorum:
            advisories.append(Advisory(
                code="region_failing_below_quorum", regions=q.below_quorum,
                message=f"failing in {', '.join(q.below_quorum)}: {len(q.below_quorum)} of {len(q.regions)} "
                        "regions, below the quorum to mark the monitor down"))
        probed = await ProbeRepository(session).enabled_regions()
        orphaned = [r for r in m.regions if r not in probed]
        if orphaned:
            advisories.append(Advisory(code="no_probe_in_region", regions=orphaned,
                                       message=f"no enabled probe checks {', '.join(orphaned)}"))
    last = None
    if m.last_checked_at is not None:
        last = LastCheck(checked_at=m.last_checked_at, result=m.last_result, latency_ms=m.last_latency_ms,
                         status_code=m.last_status_code, error=m.last_error, reason=m.last_reason)
    return MonitorStatusOut(
        monitor_id=m.id, status=m.status, status_changed_at=m.status_changed_at, latency_ms=m.last_latency_ms,
        last_check=last, next_check_at=m.next_check_at, regions=regions, advisories=advisories,
        confirmation={"streak_result": m.streak_result, "streak_count": m.streak_count, "ok_streak": m.ok_streak,
                      "confirmation_period": m.confirmation_period, "recovery_period": m.recovery_period})


async def recent_checks(store: TimeSeriesStore, tenant_id: uuid.UUID, monitor_id: uuid.UUID, *, region: str | None,
                        status: str | None, limit: int, offset: int) -> tuple[list[CheckOut], int]:
    try:
        rows, total = await repository.recent_checks(store, tenant_id, monitor_id, region=region, status=status,
                                                     limit=limit, offset=offset)
    except TimeSeriesError as exc:
        raise AppError("SERVICE_UNAVAILABLE", "check history is unavailable; retry later") from exc
    items = [CheckOut(check_id=r[0], timestamp=r[1], region=r[2], status=r[3], latency_ms=r[4],
                      status_code=r[5] or None, error=r[6], details=dict(r[7] or {})) for r in rows]
    return items, total


# --- probes: registration and prober tokens ---------------------------------------------------------

def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_bytes(32).hex()


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def probe_out(p: Probe) -> ProbeOut:
    return ProbeOut.model_validate(p, from_attributes=True)


async def list_probes(session: AsyncSession, params: PageParams) -> Page[ProbeOut]:
    repo = ProbeRepository(session)
    return await repo.page(params, repo.by_region(), out=probe_out)


async def get_probe(session: AsyncSession, probe_id: uuid.UUID) -> Probe:
    return await ProbeRepository(session).get_or_404(probe_id)


async def register(session: AsyncSession, tenant_id: uuid.UUID, name: str, region: str, *,
                   audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> tuple[Probe, str]:
    if await ProbeRepository(session).name_taken(name):
        raise AppError("CONFLICT", "a probe with this name exists", details={"fields": {"name": "taken"}})
    raw = new_token()
    probe = Probe(tenant_id=tenant_id, name=name, region=region, token_hash=token_hash(raw),
                  token_prefix=raw[:len(TOKEN_PREFIX) + 6])
    session.add(probe)
    await session.flush()
    audit.record(session, "probe.created", context=audit_ctx, principal=principal, target_type="probe",
                 target_id=probe.id, details={"name": probe.name, "region": probe.region})
    return probe, raw


async def delete_probe(session: AsyncSession, probe_id: uuid.UUID, *, audit_ctx: AuditContext | None = None,
                       principal: Principal | None = None) -> None:
    """Remove a probe; its token stops working at once (no If-Match: a probe has no editable version)."""
    await ProbeRepository(session).delete_checked(probe_id, None, audit=lambda probe: audit.record(
        session, "probe.deleted", context=audit_ctx, principal=principal, target_type="probe", target_id=probe.id,
        details={"name": probe.name, "region": probe.region}))


async def probe_of(session: AsyncSession, principal: Principal) -> Probe:
    """The probe behind a prober principal (`identity.credentials.resolve_prober_token` read it a moment ago:
    the session's identity map answers without a query)."""
    probe = await session.get(Probe, principal.credential_id)
    assert probe is not None and principal.kind == "prober"
    return probe


# --- probes: assignments and region results -----------------------------------------------------------

async def claim_assignments(session: AsyncSession, probe: Probe, now: datetime | None = None,
                            limit: int = ASSIGNMENT_LIMIT) -> list[dict[str, Any]]:
    """Checks due in the probe's region (tenant-bound session), claimed so that two probes of a
    region split the work instead of both running it."""
    now = now or utcnow()
    repo = MonitorRepository(session)
    out = []
    for row, m in await repo.due_in_region(probe.region, now, limit):
        if await repo.move_region(row, now + timedelta(seconds=m.interval_s) + jitter(m.interval_s)):
            out.append({**spec_of(m), "region": probe.region})
    return out


async def record_region_result(session: AsyncSession, probe: Probe, monitor_id: uuid.UUID,
                               result: CheckResult) -> dict[str, Any]:
    """Fold one region's result into the monitor (locked); a re-posted check id is a no-op."""
    repo = MonitorRepository(session)
    m = await repo.lock(monitor_id)
    if m is None:
        raise AppError("NOT_FOUND", "monitor not found")
    row = await repo.region_row(monitor_id, probe.region)
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


async def post_results(session: AsyncSession, probe: Probe, data: ResultsIn) -> list[dict[str, Any]]:
    """Fold a probe's results into the monitors' state and commit; the history follows (best effort)."""
    outcomes, stored = [], []
    for item in data.results:
        result = CheckResult(item.status, item.latency_ms, item.status_code, item.error[:500], item.reason,
                             {k[:60]: v[:500] for k, v in item.details.items()}, item.checked_at, item.check_id)
        outcome = await record_region_result(session, probe, item.monitor_id, result)
        outcomes.append(outcome)
        if outcome["accepted"]:
            stored.append((item.monitor_id, "", probe.region, result))
    days = await history_retention_days(session, probe.tenant_id)
    await commit(session)  # state first; history follows (best effort)
    if stored:
        await repository.write_results(probe.tenant_id, stored, retention_days=days)
    return outcomes
