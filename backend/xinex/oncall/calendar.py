"""Evaluate a stored schedule: on call at T, shifts over a range, and the iCal feed (RFC 5545)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit.types import utcnow
from xinex.models.identity import User
from xinex.models.oncall import Schedule
from xinex.oncall import schedules as engine
from xinex.oncall.repository import OverrideRepository


def layers_of(schedule: Schedule) -> list[engine.Layer]:
    return [engine.layer_from_dict(raw) for raw in schedule.layers or []]


async def _overrides(session: AsyncSession, schedule: Schedule, start: datetime,
                     end: datetime) -> list[engine.OverrideSpan]:
    return [engine.OverrideSpan(user_id=o.user_id, starts_at=o.starts_at, ends_at=o.ends_at, id=o.id,
                                created_at=o.created_at)
            for o in await OverrideRepository(session).all_of(schedule.id, start, end)]


async def oncall_at(session: AsyncSession, schedule: Schedule, at: datetime) -> engine.OnCall | None:
    overrides = await _overrides(session, schedule, at, at + timedelta(microseconds=1))
    return engine.oncall_at(layers_of(schedule), overrides, ZoneInfo(schedule.timezone), at)


async def shifts(session: AsyncSession, schedule: Schedule, start: datetime, end: datetime) -> list[engine.Shift]:
    overrides = await _overrides(session, schedule, start, end)
    return engine.shifts(layers_of(schedule), overrides, ZoneInfo(schedule.timezone), start, end)


async def ical(session: AsyncSession, schedule: Schedule, *, days_back: int = 7, days_ahead: int = 60,
               now: datetime | None = None) -> bytes:
    now = now or utcnow()
    # The feed's whole window (the past week + what lies ahead) stays within what one shifts() computes:
    # a year ahead keeps fewer days of the past (days=366 was a 500).
    days_back = max(0, min(days_back, engine.MAX_SPAN.days - days_ahead - 1))
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=days_back)
    spans = await shifts(session, schedule, start, min(now + timedelta(days=days_ahead), start + engine.MAX_SPAN))
    ids = {s.user_id for s in spans}
    users = {u.id: u for u in (await session.execute(select(User).where(col(User.id).in_(ids)))).scalars().all()} if ids else {}
    cal = Calendar()
    cal.add("prodid", "-//Xinex//On-call schedules//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"On call: {schedule.name}")
    cal.add("x-wr-timezone", schedule.timezone)
    for span in spans:
        user = users.get(span.user_id)
        who = (user.name or user.email) if user else str(span.user_id)
        event = Event()
        # Stable per (schedule, start, person): calendar clients update instead of duplicating.
        event.add("uid", f"{schedule.id}-{int(span.start.timestamp())}-{span.user_id}@xinex")
        event.add("dtstamp", now)
        event.add("dtstart", span.start)
        event.add("dtend", span.end)
        event.add("summary", f"On call: {who}" + (" (override)" if span.source == "override" else ""))
        event.add("description", f"Schedule {schedule.name}; user {span.user_id}")
        cal.add_component(event)
    body: bytes = cal.to_ical()
    return body


def user_ids_on_call(found: engine.OnCall | None) -> list[uuid.UUID]:
    return [found.user_id] if found else []
