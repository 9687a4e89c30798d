"""The monitor state machine: confirmation and recovery periods, quorum over regions, events.

Raw results are up | degraded | down. A monitor goes down after `confirmation_period` consecutive
down results, leaves down after `recovery_period` consecutive results that are not down, and moves
between up and degraded after the same periods of identical results. Every change of status emits
one outbox event (`monitor.down`, `monitor.degraded`, `monitor.up`) in the same transaction; the
first verdict of a new monitor being "up" is not a change anyone is alerted about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.events.outbox import emit
from xinex.kit.types import utcnow
from xinex.models.monitors import Monitor
from xinex.models.monitors import MonitorStatus as S
from xinex.monitors.checks import DEGRADED, DOWN, UP, CheckResult
from xinex.monitors.repository import MonitorRepository

SEVERITY = {DOWN: "critical", DEGRADED: "warning", UP: "info"}


def _target(m: Monitor, raw: str) -> str | None:
    """The status the streaks call for, or None to stay."""
    current = m.status
    if raw == DOWN:
        return S.down.value if current != S.down and m.streak_count >= m.confirmation_period else None
    if current == S.down:
        return raw if m.ok_streak >= m.recovery_period else None
    if current == S.pending:
        if raw == UP:
            return S.up.value
        return S.degraded.value if m.streak_count >= m.confirmation_period else None
    if current == S.up and raw == DEGRADED and m.streak_count >= m.confirmation_period:
        return S.degraded.value
    if current == S.degraded and raw == UP and m.streak_count >= m.recovery_period:
        return S.up.value
    return None


def apply_outcome(session: AsyncSession, m: Monitor, result: CheckResult, now: datetime | None = None,
                  *, summary: dict[str, Any] | None = None) -> str | None:
    """Fold one (possibly region-aggregated) result into `m`; returns the new status on a change."""
    now = now or utcnow()
    raw = result.status
    if m.status == S.paused:
        return None
    m.streak_count = m.streak_count + 1 if m.streak_result == raw else 1
    m.streak_result = raw
    m.ok_streak = 0 if raw == DOWN else m.ok_streak + 1
    m.last_checked_at = result.checked_at
    m.last_result = raw
    m.last_latency_ms = result.latency_ms
    m.last_status_code = result.status_code
    m.last_error = result.error[:500] or None
    m.last_reason = result.reason[:60] if result.reason else None
    new = _target(m, raw)
    if new is None or new == m.status:
        return None
    previous = m.status
    m.status = new
    m.status_changed_at = now
    if previous == S.pending and new == S.up:
        return new  # first verdict: nothing recovered
    emit(session, f"monitor.{new}", source_type="monitor", source_id=m.id, tenant_id=m.tenant_id,
         severity=SEVERITY[new], occurred_at=result.checked_at,
         payload={"name": m.name, "type": m.type, "previous_status": previous, "status": new,
                  "reason": result.reason, "error": result.error[:500], "latency_ms": result.latency_ms,
                  "status_code": result.status_code, "tags": list(m.tags or []),
                  "url": (m.config or {}).get("url"), **(summary or {})})
    return new


@dataclass
class Quorum:
    regions: list[str]
    failing: list[str]
    degraded: list[str]
    reported: list[str]

    @property
    def down(self) -> bool:
        return bool(self.regions) and len(self.failing) * 2 >= len(self.regions)

    @property
    def below_quorum(self) -> list[str]:
        return [] if self.down else self.failing


async def quorum(session: AsyncSession, m: Monitor) -> Quorum:
    latest = {r.region: r for r in await MonitorRepository(session).regions_of(m.id)}
    regions = list(m.regions or [])
    failing = [r for r in regions if r in latest and latest[r].last_result == DOWN]
    degraded = [r for r in regions if r in latest and latest[r].last_result == DEGRADED]
    reported = [r for r in regions if r in latest and latest[r].last_result is not None]
    return Quorum(regions, failing, degraded, reported)


def aggregate(q: Quorum, latest: CheckResult) -> CheckResult:
    """One monitor-level result from the regions' latest ones: down by quorum (failing*2 >= regions)."""
    if q.down:
        status, reason = DOWN, "quorum_failing"
        error = f"failing in {len(q.failing)} of {len(q.regions)} regions: {', '.join(q.failing)}"
    elif q.degraded:
        status, reason, error = DEGRADED, "region_degraded", f"degraded in {', '.join(q.degraded)}"
    else:
        status, reason, error = UP, "ok", ""
        if q.failing:
            reason = "region_failing_below_quorum"
            error = f"failing in {', '.join(q.failing)} (below quorum)"
    return CheckResult(status, latency_ms=latest.latency_ms, status_code=latest.status_code, error=error,
                       reason=reason, checked_at=latest.checked_at, check_id=latest.check_id)
