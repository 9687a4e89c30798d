"""Budget figures over recent runs and the list of budgets an AI heartbeat exceeds now."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.models.ai_heartbeats import AiHeartbeat, AiRun

FAILED = ("failure", "error")


@dataclass(frozen=True)
class Stats:
    runs: int  # ended within the window
    failures: int
    p95_latency_ms: float | None
    cost_today_usd: float
    running: int

    @property
    def failure_rate(self) -> float | None:
        return self.failures / self.runs if self.runs else None


def p95(values: list[float]) -> float | None:
    """Nearest-rank 95th percentile: the smallest value >= 95% of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def day_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)  # UTC day


async def stats(session: AsyncSession, hb: AiHeartbeat, now: datetime) -> Stats:
    since = now - timedelta(seconds=hb.budget_window_s)
    rows = (await session.execute(select(AiRun.outcome, AiRun.latency_ms).where(
        AiRun.ai_heartbeat_id == hb.id, AiRun.ended_at.is_not(None), AiRun.ended_at > since,
        AiRun.ended_at <= now))).all()
    cost = (await session.execute(select(func.coalesce(func.sum(AiRun.cost_usd), 0.0)).where(
        AiRun.ai_heartbeat_id == hb.id, AiRun.ended_at >= day_start(now), AiRun.ended_at <= now))).scalar_one()
    running = (await session.execute(select(func.count()).select_from(AiRun).where(
        AiRun.ai_heartbeat_id == hb.id, AiRun.outcome == "running"))).scalar_one()
    latencies = [float(lat) for _, lat in rows if lat is not None]
    return Stats(runs=len(rows), failures=sum(1 for o, _ in rows if o in FAILED), p95_latency_ms=p95(latencies),
                 cost_today_usd=round(float(cost), 6), running=int(running))


def breaches(hb: AiHeartbeat, s: Stats, last_run: AiRun | None) -> list[dict]:
    """Budgets exceeded now. Failure rate and p95 wait for `min_runs` runs in the window."""
    out: list[dict] = []
    enough = s.runs >= hb.min_runs
    if hb.max_failure_rate is not None and enough and s.failure_rate > hb.max_failure_rate:
        out.append({"budget": "failure_rate", "value": round(s.failure_rate, 4), "limit": hb.max_failure_rate,
                    "runs": s.runs, "window_s": hb.budget_window_s})
    if hb.max_p95_latency_ms is not None and enough and s.p95_latency_ms is not None \
            and s.p95_latency_ms > hb.max_p95_latency_ms:
        out.append({"budget": "p95_latency_ms", "value": s.p95_latency_ms, "limit": hb.max_p95_latency_ms,
                    "runs": s.runs, "window_s": hb.budget_window_s})
    if hb.max_cost_per_run_usd is not None and last_run is not None and last_run.cost_usd > hb.max_cost_per_run_usd:
        out.append({"budget": "cost_per_run_usd", "value": round(last_run.cost_usd, 6),
                    "limit": hb.max_cost_per_run_usd, "run_id": last_run.run_id})
    if hb.max_cost_per_day_usd is not None and s.cost_today_usd > hb.max_cost_per_day_usd:
        out.append({"budget": "cost_per_day_usd", "value": s.cost_today_usd, "limit": hb.max_cost_per_day_usd})
    return out
