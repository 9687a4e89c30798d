"""The AI-heartbeat domain's background work: the missed-schedule sweeper and the run-event exporter.

Plain `async def loop(db, stop_event)` tasks (routes.BACKGROUND_TASKS), safe to run in several
processes: rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL and every flip is a
compare-and-set. Exported events are deleted from PostgreSQL in the transaction that follows the
insert; a batch inserted twice (crash in between) is dropped by ClickHouse's deduplication token.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.ai_heartbeats.service import flip_due
from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.ai_heartbeats import AiHeartbeat, AiRunEvent
from xinex.models.ai_heartbeats import AiStatus as S
from xinex.tiers.catalog import feature_enabled
from xinex.tiers.service import tenant_tier

log = logging.getLogger("xinex.ai_heartbeats")
SWEEP_SCOPE = "ai_heartbeats.sweeper"
EXPORT_SCOPE = "ai_heartbeats.exporter"
BATCH = 500
COLUMNS = ["tenant_id", "ai_heartbeat_id", "event_id", "timestamp", "run_id", "event", "outcome", "model",
           "step_name", "input_tokens", "output_tokens", "cost_usd", "latency_ms", "error", "metadata",
           "retention_days"]


def _claim(session: AsyncSession, stmt):
    return stmt.with_for_update(skip_locked=True) if session.bind.dialect.name == "postgresql" else stmt


async def sweep_due(db: Database, now: datetime | None = None, limit: int = BATCH) -> int:
    now = now or utcnow()
    made = 0
    async with db.session(system=SWEEP_SCOPE) as session:
        due = _claim(session, select(AiHeartbeat).where(
            AiHeartbeat.alert_after <= now, AiHeartbeat.status.in_([S.ok.value, S.breached.value, S.late.value])
        ).order_by(AiHeartbeat.alert_after).limit(limit))
        allowed: dict[uuid.UUID, bool] = {}
        for hb in (await session.execute(due)).scalars().all():
            if hb.tenant_id not in allowed:
                allowed[hb.tenant_id] = feature_enabled(await tenant_tier(session, hb.tenant_id), "ai_heartbeats")
            if not allowed[hb.tenant_id]:
                # A tenant that left the tiers with AI heartbeats: no missed-run alerts (its run events are
                # refused too). The schedule starts again with the first run after an upgrade.
                hb.alert_after = None
                continue
            made += await flip_due(session, hb, now)
    return made


_migrated: set[int] = set()


async def export_events(db: Database, store=None, limit: int = 1000, tenant_id: uuid.UUID | None = None) -> int:
    if store is None:
        from xinex.timeseries.store import get_store

        store = get_store()
    if id(store) not in _migrated:
        await store.migrate()  # idempotent
        _migrated.add(id(store))
    async with db.session(system=EXPORT_SCOPE) as session:
        stmt = select(AiRunEvent).order_by(AiRunEvent.received_at).limit(limit)
        if tenant_id is not None:
            stmt = stmt.where(AiRunEvent.tenant_id == tenant_id)
        events = list((await session.execute(_claim(session, stmt))).scalars().all())
        if not events:
            return 0
        rows = [[e.tenant_id, e.ai_heartbeat_id, e.id, e.received_at, e.run_id, e.event, e.outcome or "",
                 e.model or "", e.step_name or "", e.input_tokens, e.output_tokens, float(e.cost_usd),
                 e.latency_ms, e.error or "", {k: v or "" for k, v in (e.event_metadata or {}).items()},
                 e.retention_days] for e in events]
        token = hashlib.sha256(b"".join(e.id.bytes for e in events)).hexdigest()
        await store.insert("ai_run_events", COLUMNS, rows, settings={"insert_deduplication_token": token})
        await session.execute(delete(AiRunEvent).where(AiRunEvent.id.in_([e.id for e in events]))
                              .execution_options(synchronize_session=False))
    return len(events)


async def run_sweeper(db: Database, stop: asyncio.Event, every: float = 0.5) -> None:
    while not stop.is_set():
        try:
            made = await sweep_due(db)
            wait = 0.0 if made >= BATCH else every
        except Exception:
            log.exception("AI heartbeat sweep failed")
            wait = 1.0
        await wait_or_stop(stop, wait)


async def run_exporter(db: Database, stop: asyncio.Event, idle: float = 1.0) -> None:
    failures = 0
    while not stop.is_set():
        try:
            copied = await export_events(db)
            failures = 0
            wait = 0.0 if copied >= 1000 else idle
        except Exception as exc:  # the store is down: events wait in PostgreSQL
            failures += 1
            log.warning("AI run event export failed (%s attempts): %s", failures, exc)
            wait = min(60.0, idle * 2 ** min(failures, 5))
        await wait_or_stop(stop, wait)
