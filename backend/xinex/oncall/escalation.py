"""The escalation runner: fires due steps of each triggered incident's policy snapshot.

Each incident carries a cursor (esc_step, esc_cycle) and the precomputed `next_escalation_at`.
Firing a step is a compare-and-set on that cursor in the same transaction as its pages, so two
runners (or a runner and the engine) never fire the same step twice, and a crash fires nothing.
Step delays are "wait this long after the previous step" (the first step: after the incident
opened); a repeat cycle starts `repeat_delay_minutes` after the last step.

A reassigned incident (incidents/service.py `reassign_by`) gets a new snapshot whose cycles are
numbered from `cycle_base` on, past every cycle already paged: its pages never collide with the
earlier ones on the page's unique key, so the new assignee is paged even if they were paged before.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.events import timeline
from xinex.kit.db import Database
from xinex.kit.types import utcnow
from xinex.models.incidents import Incident, IncidentStatus
from xinex.models.oncall import Schedule
from xinex.oncall import calendar, reach
from xinex.oncall.paging import create_page
from xinex.realtime.bus import publish_after_commit

log = logging.getLogger("xinex.oncall.escalation")

SCOPE = "oncall.escalation"
BATCH = 200
MAX_SLEEP_S = 0.5  # the loop (oncall/jobs.py) looks at least this often


def _steps(incident: Incident) -> list[dict[str, Any]]:
    return list((incident.policy_snapshot or {}).get("steps") or [])


def cycle_base(incident: Incident) -> int:
    """The first cycle number of the current snapshot (0 unless the incident was reassigned)."""
    return int((incident.policy_snapshot or {}).get("cycle_base") or 0)


def start(incident: Incident, at: datetime | None = None) -> None:
    """Point the cursor at the first step, counted from `at` (default: when the incident opened;
    called when the incident opens, is unsuppressed or reassigned)."""
    steps = _steps(incident)
    incident.esc_step, incident.esc_cycle = 0, cycle_base(incident)
    incident.next_escalation_at = (
        (at or incident.opened_at) + timedelta(minutes=int(steps[0].get("delay_minutes") or 0)) if steps else None)


def following(incident: Incident, step: int, cycle: int, fired_at: datetime) -> tuple[int, int, datetime | None]:
    snapshot = incident.policy_snapshot or {}
    steps = _steps(incident)
    if step + 1 < len(steps):
        return step + 1, cycle, fired_at + timedelta(minutes=int(steps[step + 1].get("delay_minutes") or 0))
    if cycle - cycle_base(incident) < int(snapshot.get("repeat") or 0):
        wait = int(snapshot.get("repeat_delay_minutes") or 30) + int(steps[0].get("delay_minutes") or 0)
        return 0, cycle + 1, fired_at + timedelta(minutes=wait)
    return step, cycle, None


async def _schedule_user(session: AsyncSession, schedule_id: uuid.UUID, at: datetime) -> uuid.UUID | None:
    schedule = (await session.execute(select(Schedule).where(col(Schedule.id) == schedule_id))).scalar_one_or_none()
    if schedule is None:
        return None
    found = await calendar.oncall_at(session, schedule, at)
    return found.user_id if found else None


async def fire_step(session: AsyncSession, incident: Incident, step: int, cycle: int, at: datetime,
                    now: datetime) -> int:
    """Create the pages of one step; returns how many were new."""
    spec = _steps(incident)[step]
    targets = list(spec.get("targets") or [])
    if spec.get("round_robin") and targets:
        targets = [targets[(incident.rr_offset + cycle) % len(targets)]]
    event = "incident.triggered" if (step, cycle) == (0, 0) else "incident.escalated"
    made, nobody = 0, []
    for target in targets:
        kind, tid = target["type"], uuid.UUID(str(target["id"]))
        if kind == "schedule":
            user = await _schedule_user(session, tid, at)
            if user is None:
                nobody.append(str(tid))
                continue
            made += bool(await create_page(session, incident, event=event, target_type="user", target_id=user,
                                           step_index=step, cycle=cycle, now=now, via_schedule_id=tid))
        else:
            made += bool(await create_page(session, incident, event=event, target_type=kind, target_id=tid,
                                           step_index=step, cycle=cycle, now=now))
    timeline.add(session, incident, "escalation",
                 f"Escalation step {step + 1} (cycle {cycle - cycle_base(incident) + 1}) of {(incident.policy_snapshot or {}).get('name')}: "
                 f"{made} page(s)" + (f"; nobody on call in {', '.join(nobody)}" if nobody else ""),
                 now, data={"step_index": step, "cycle": cycle, "scheduled_at": at.isoformat(), "pages": made})
    if step > 0 or cycle > 0:
        publish_after_commit(session, incident.tenant_id,
                         timeline.incident_event("incident.escalated", incident, step_index=step, cycle=cycle))
    if not made:
        await session.flush()
        await reach.review(session, incident, now)  # e.g. nobody on call and no channel: say so now
    return made


async def advance(session: AsyncSession, incident: Incident, now: datetime) -> int:
    """Fire every step of `incident` due by `now`; returns the number of steps this call fired."""
    fired = 0
    while (incident.status == IncidentStatus.triggered.value and not incident.suppressed
           and incident.next_escalation_at is not None and incident.next_escalation_at <= now):
        step, cycle, due = incident.esc_step, incident.esc_cycle, incident.next_escalation_at
        if step >= len(_steps(incident)):
            break
        nstep, ncycle, nxt = following(incident, step, cycle, due)
        won = (await session.execute(
            update(Incident).where(col(Incident.id) == incident.id, col(Incident.esc_step) == step,
                                   col(Incident.esc_cycle) == cycle, col(Incident.next_escalation_at) == due,
                                   col(Incident.status) == IncidentStatus.triggered.value)
            .values(esc_step=nstep, esc_cycle=ncycle, next_escalation_at=nxt)
            .returning(col(Incident.id)).execution_options(synchronize_session=False)
        )).scalar_one_or_none()
        await session.refresh(incident)
        if won is None:
            break  # another runner fired it (or the incident was acknowledged meanwhile)
        await fire_step(session, incident, step, cycle, due, now)
        fired += 1
    return fired


async def run_due(db: Database, now: datetime | None = None, limit: int = BATCH) -> int:
    """One pass over every tenant's due incidents; each incident in its own tenant-bound unit."""
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        rows = (await session.execute(
            select(col(Incident.id), col(Incident.tenant_id)).where(
                col(Incident.next_escalation_at) <= now, col(Incident.status) == IncidentStatus.triggered.value,
                col(Incident.suppressed).is_(False))
            .order_by(col(Incident.next_escalation_at)).limit(limit))).all()
    fired = 0
    for incident_id, tenant_id in rows:
        try:
            async with db.session(tenant_id=tenant_id) as session:
                incident = (await session.execute(select(Incident).where(col(Incident.id) == incident_id))).scalar_one()
                fired += await advance(session, incident, now)
        except Exception:
            log.exception("escalation failed", extra={"incident_id": str(incident_id)})
    return fired


async def next_due(db: Database) -> datetime | None:
    async with db.session(system=SCOPE) as session:
        return (await session.execute(select(func.min(col(Incident.next_escalation_at))).where(
            col(Incident.status) == IncidentStatus.triggered.value, col(Incident.suppressed).is_(False)))).scalar_one_or_none()

