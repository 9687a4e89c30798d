"""The heartbeat state machine: the statuses and how a ping or the clock moves them (healthchecks.io's
semantics, described in service.py), the outbox event each transition writes, and the retention of
pings and runs. Imported by both the batched ping writer (apply.py) and the use cases (service.py), so
neither reaches into the other. `hb` is a Heartbeat row or apply's HeartbeatState (the same fields),
hence `Any` until a Protocol names those fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.events.outbox import emit
from xinex.heartbeats.schedule import deadlines
from xinex.kit.errors import AppError
from xinex.models.heartbeats import Heartbeat
from xinex.models.heartbeats import HeartbeatStatus as S

DEFAULT_PING_BODY_LIMIT = 100_000  # XINEX_PING_BODY_LIMIT's default (healthchecks.io stores 100 KB)
KEEP_PINGS = 100
KEEP_UNEXPORTED_PINGS = 1000  # if the time-series store is down, stop holding pings past this
KEEP_RUNS = 200
PRUNE_EVERY = 20
PING_KINDS = ("start", "success", "fail", "log")

EVENT_SEVERITY = {
    "heartbeat.late": "warning",
    "heartbeat.down": "critical",
    "heartbeat.up": "info",
    "heartbeat.ran_too_long": "warning",
}


@dataclass
class PingInput:
    kind: str  # start | success | fail | log
    exit_code: int | None = None
    run_id: str | None = None
    body: bytes = b""
    body_size: int = 0
    method: str = "POST"
    remote_ip: str | None = None
    user_agent: str | None = None
    dialect: str = "native"


def kind_for_exit_code(code: int) -> str:
    if not 0 <= code <= 255:
        raise AppError("VALIDATION_FAILED", "exit code must be between 0 and 255",
                       details={"fields": {"exit_code": "must be between 0 and 255"}})
    return "success" if code == 0 else "fail"


def emit_event(session: AsyncSession, hb: Heartbeat, event_type: str, now: datetime, **extra: Any) -> None:
    suffix = ":runtime" if event_type == "heartbeat.ran_too_long" else ""
    emit(
        session, event_type, source_type="heartbeat", source_id=hb.id,
        dedup_key=f"heartbeat:{hb.id}{suffix}", severity=EVENT_SEVERITY[event_type],
        occurred_at=now, tenant_id=hb.tenant_id,
        payload={"heartbeat_id": str(hb.id), "name": hb.name, "slug": hb.slug, "status": hb.status,
                 "last_ping_at": hb.last_ping_at.isoformat() if hb.last_ping_at else None, **extra},
    )


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at is not None else "never"


def ping_words(kind: str | None, exit_code: int | None, at: datetime | None) -> str:
    """'success', 'fail (exit status 3)' … at <time>: the last ping as a page body states it."""
    if kind is None:
        return "none received"
    what = kind if exit_code is None else f"{kind} (exit status {exit_code})"
    return f"{what} at {_when(at)}"


def down_details(hb: Any, reason: str, *, last_ping: str, now: datetime) -> str:
    """The body of a `heartbeat.down` page: what happened, and the last ping with its exit status."""
    if reason == "fail_ping":
        head = "A failure was reported."
    elif reason == "did_not_finish":
        head = (f"A run started at {_when(hb.last_start_at)} did not finish within the grace period "
                f"({hb.grace_s} s).")
    else:
        head = (f"No ping since {_when(hb.last_ping_at)}: expected by {_when(hb.late_at)}, "
                f"grace period {hb.grace_s} s.")
    return f"{head}\nLast ping: {last_ping}."


def arm(hb: Any) -> None:
    """Set `down_at` and the sweeper's `alert_after` from the schedule (`late_at`, while up or late)
    and the running state (`last_start_at`): like healthchecks, a started run must end within
    grace, even on a new or paused heartbeat; a down heartbeat has no deadline."""
    grace = timedelta(seconds=hb.grace_s)
    if hb.status == S.down:
        hb.late_at = hb.down_at = hb.alert_after = None
        return
    scheduled = hb.late_at + grace if hb.status in (S.up, S.late) and hb.late_at is not None else None
    running = hb.last_start_at + grace if hb.last_start_at is not None else None
    hb.down_at = min((d for d in (scheduled, running) if d is not None), default=None)
    if hb.status == S.up and hb.late_at is not None:
        hb.alert_after = min(hb.late_at, hb.down_at)
    else:
        hb.alert_after = hb.down_at


def down_reason(hb: Any, now: datetime) -> str:
    """Why a deadline made this heartbeat down: its run did not finish, or its ping did not come."""
    if hb.last_start_at is not None and hb.last_start_at + timedelta(seconds=hb.grace_s) <= now:
        return "did_not_finish"
    return "missed"


def schedule_from(hb: Heartbeat, after: datetime) -> tuple[datetime, datetime]:
    return deadlines(kind=hb.kind, interval_s=hb.interval_s, grace_s=hb.grace_s, cron=hb.cron,
                     timezone=hb.timezone, after=after)


def _apply_status(session: AsyncSession, hb: Heartbeat, new_status: str, now: datetime, ping: Any = None) -> None:
    """Set status and deadlines after a success/fail ping (the running state already updated),
    emitting the matching event."""
    previous = hb.status
    hb.status = new_status
    if new_status == S.up:
        hb.late_at, _ = schedule_from(hb, now)
    arm(hb)
    if new_status == S.down and previous != S.down:
        last = ping_words(ping.kind, ping.exit_code, now) if ping is not None else ping_words("fail", None, now)
        emit_event(session, hb, "heartbeat.down", now, previous_status=previous, reason="fail_ping",
                   exit_code=getattr(ping, "exit_code", None),
                   details=down_details(hb, "fail_ping", last_ping=last, now=now))
    elif new_status == S.up and previous in (S.late, S.down):
        emit_event(session, hb, "heartbeat.up", now, previous_status=previous)
