"""The AI-heartbeat domain's queries for the API: AI heartbeats, their runs (ORM, on the kit base, scoped by
the session's tenant) and a run's event history in the time-series store (the tenant a bound parameter).
The engine's own statements (run claims, status compare-and-set, budget sums) stay with the engine
(service.py, budgets.py) and the loops (jobs.py)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.ai_heartbeats import AiHeartbeat, AiRun
from xinex.models.heartbeats import Heartbeat
from xinex.timeseries.store import QueryResult, TimeSeriesStore

RUN_EVENTS_SQL = (
    "SELECT event_id, timestamp, event, outcome, model, step_name, input_tokens, output_tokens, cost_usd,"
    " latency_ms, error, metadata FROM ai_run_events WHERE tenant_id = {tenant:UUID}"
    " AND ai_heartbeat_id = {hb:UUID} AND run_id = {run:String} ORDER BY timestamp LIMIT {lim:UInt32}")


class AiHeartbeatRepository(Repository[AiHeartbeat]):
    model = AiHeartbeat
    label = "AI heartbeat"

    def filtered(self, *, status: str | None = None) -> Select[AiHeartbeat]:
        stmt = self.select()
        if status:
            stmt = stmt.where(col(AiHeartbeat.status) == status)
        return stmt.order_by(col(AiHeartbeat.name), col(AiHeartbeat.id))

    @staticmethod
    def counted_against_limit() -> list[Select[Any]]:
        """What the tier's heartbeat allowance counts: classic and AI heartbeats together."""
        return [select(func.count()).select_from(model) for model in (Heartbeat, AiHeartbeat)]

    @staticmethod
    def runs(hb_id: uuid.UUID, outcome: str | None = None) -> Select[AiRun]:
        stmt = select(AiRun).where(col(AiRun.ai_heartbeat_id) == hb_id)
        if outcome:
            stmt = stmt.where(col(AiRun.outcome) == outcome)
        return stmt.order_by(col(AiRun.started_at).desc(), col(AiRun.id))

    async def run(self, hb_id: uuid.UUID, run_id: str) -> AiRun | None:
        return (await self.session.scalars(select(AiRun).where(
            col(AiRun.ai_heartbeat_id) == hb_id, col(AiRun.run_id) == run_id))).one_or_none()


async def run_events(store: TimeSeriesStore, tenant_id: uuid.UUID, hb_id: uuid.UUID, run_id: str,
                     limit: int) -> QueryResult:
    """A run's events from the store, oldest first (raises StoreUnavailableError)."""
    return await store.query(RUN_EVENTS_SQL, {"tenant": tenant_id, "hb": hb_id, "run": run_id, "lim": limit})
