"""The one heartbeat engine: every dialect's ping lands in `record_ping`; the sweeper and the
pings share `transitions._apply_status`, which writes the outbox event in the same transaction as the state.

Semantics follow healthchecks.io: new -> up on the first success; up -> late when the expected
ping is overdue; late -> down when grace runs out; a fail ping (or a non-zero exit code) -> down
at once; a success ping from late/down -> up; a log ping is stored and changes nothing; a
success/fail ping to a paused heartbeat un-pauses it. A start opens the "running" state
(`last_start_at`): a run that has not ended within grace of its start makes the heartbeat down
whatever its schedule says (healthchecks' `going_down_after`).

Paging follows healthchecks too: `late` (the grace period) is a status to show, not an alert; the
`heartbeat.down` event is the one that pages. A heartbeat with `notify_late` also emits
`heartbeat.late` (and the matching `heartbeat.up` when it recovers from late).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.heartbeats import apply as batch
from xinex.heartbeats.apply import Applied as PingResult
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
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.heartbeats import Heartbeat, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S
from xinex.tiers.service import ensure_within_limit


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
        update(HeartbeatRun)
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
        await ensure_within_limit(session, hb.tenant_id, "heartbeats", select(func.count()).select_from(Heartbeat)
                                  .where(Heartbeat.status != S.paused.value))


def resume(hb: Heartbeat) -> None:
    # Like healthchecks: a resumed heartbeat waits for its next ping as a new one.
    if hb.status == S.paused:
        hb.status = S.new.value
        hb.paused_reason = None
        hb.late_at = hb.down_at = hb.alert_after = hb.last_start_at = None
