"""What a tier change does to what the tenant already has (docs/billing.md, "What a tier change does").

Nothing is deleted. Over the new limit, the newest running monitors and heartbeats are paused with
`paused_reason = "tier_limit"`; when the limit allows again, exactly those are resumed (oldest
first). Check intervals below the tier's floor are raised to it. Idempotent: running it twice for
the same tier changes nothing the second time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.heartbeats import service as heartbeats
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatStatus
from xinex.models.monitors import Monitor, MonitorStatus
from xinex.monitors import service as monitors
from xinex.tiers.catalog import feature_enabled, limits_for

TIER_LIMIT = "tier_limit"
TIER_FEATURE = "tier_feature"  # a multi-region monitor on a tier without multi-region probes


@dataclass
class Effects:
    paused_monitors: list[dict[str, str]] = field(default_factory=list)
    paused_heartbeats: list[dict[str, str]] = field(default_factory=list)
    resumed_monitors: list[dict[str, str]] = field(default_factory=list)
    resumed_heartbeats: list[dict[str, str]] = field(default_factory=list)
    intervals_raised: list[dict[str, object]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.paused_monitors or self.paused_heartbeats or self.resumed_monitors
                    or self.resumed_heartbeats or self.intervals_raised)

    @property
    def paused_any(self) -> bool:
        return bool(self.paused_monitors or self.paused_heartbeats)

    def summary(self) -> dict[str, object]:
        return {"paused_monitors": self.paused_monitors, "paused_heartbeats": self.paused_heartbeats,
                "resumed_monitors": self.resumed_monitors, "resumed_heartbeats": self.resumed_heartbeats,
                "intervals_raised": self.intervals_raised}


def _ref(obj: Monitor | Heartbeat) -> dict[str, str]:
    return {"id": str(obj.id), "name": obj.name}


async def apply(session: AsyncSession, tenant_id: uuid.UUID, tier: str) -> Effects:
    """Bring the tenant's monitors and heartbeats within `tier` (the session is bound to the tenant)."""
    limits = limits_for(tier)
    effects = Effects()
    now = utcnow()

    # Monitors and heartbeats name their tenant: a plan change also runs under the billing jobs' system scope.
    mons = list((await session.execute(
        select(Monitor).where(col(Monitor.tenant_id) == tenant_id)
        .order_by(col(Monitor.created_at), col(Monitor.id)).with_for_update())).scalars())
    regions_allowed = feature_enabled(tier, "multi_region_probes")
    for m in mons:
        if not regions_allowed and len(m.regions or []) > 1 and m.status != MonitorStatus.paused:
            await monitors.pause(session, m, now)
            m.paused_reason = TIER_FEATURE
            effects.paused_monitors.append({**_ref(m), "reason": TIER_FEATURE})
        elif regions_allowed and m.status == MonitorStatus.paused and m.paused_reason == TIER_FEATURE:
            await monitors.resume(session, m, now)
            effects.resumed_monitors.append(_ref(m))
    running = [m for m in mons if m.status != MonitorStatus.paused]
    held = [m for m in mons if m.status == MonitorStatus.paused and m.paused_reason == TIER_LIMIT]
    if limits.monitors is not None and len(running) > limits.monitors:
        for m in reversed(running[limits.monitors:]):  # newest first
            await monitors.pause(session, m, now)
            m.paused_reason = TIER_LIMIT
            effects.paused_monitors.append(_ref(m))
    else:
        room = len(held) if limits.monitors is None else max(0, limits.monitors - len(running))
        for m in held[:room]:  # oldest first
            await monitors.resume(session, m, now)
            effects.resumed_monitors.append(_ref(m))
    for m in mons:
        if m.interval_s < limits.check_interval_floor_s:
            effects.intervals_raised.append({**_ref(m), "from": m.interval_s, "to": limits.check_interval_floor_s})
            m.interval_s = limits.check_interval_floor_s

    hbs = list((await session.execute(
        select(Heartbeat).where(col(Heartbeat.tenant_id) == tenant_id)
        .order_by(col(Heartbeat.created_at), col(Heartbeat.id)).with_for_update())).scalars())
    live = [h for h in hbs if h.status != HeartbeatStatus.paused]
    parked = [h for h in hbs if h.status == HeartbeatStatus.paused and h.paused_reason == TIER_LIMIT]
    if limits.heartbeats is not None and len(live) > limits.heartbeats:
        for h in reversed(live[limits.heartbeats:]):
            heartbeats.pause(h)
            h.paused_reason = TIER_LIMIT
            effects.paused_heartbeats.append(_ref(h))
    else:
        room = len(parked) if limits.heartbeats is None else max(0, limits.heartbeats - len(live))
        for h in parked[:room]:
            heartbeats.resume(h)
            effects.resumed_heartbeats.append(_ref(h))
    return effects
