"""Health endpoints for load balancers and process supervisors (docs/operations.md).

- `/health/live`: 200 while the process serves HTTP at all; touches no dependency, so a database
  outage never makes a supervisor restart healthy processes.
- `/health/ready` (and `/health`, what a load balancer probes): 200 when this process can serve
  requests — the database answers. Redis and a ClickHouse server, when configured, are checked
  and reported too, but their outage degrades the API rather than stopping it (rate limits count
  locally, jobs run in-process, telemetry waits), so they answer 200 with `"status": "degraded"`:
  taking every replica out of the load balancer for a Redis outage would turn a degraded service
  into a down one. Every check is bounded by CHECK_TIMEOUT_S and they run concurrently.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from xinex import __version__
from xinex.kit.errors import RETRY_AFTER_S, error_response
from xinex.kit.openapi import json_example

log = logging.getLogger("xinex.health")

router = APIRouter(tags=["platform"])
CHECK_TIMEOUT_S = 2.0
REQUIRED = ("database",)  # the dependencies without which this process cannot serve


async def _database(request: Request) -> None:
    async with request.app.state.db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _redis(request: Request) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(request.app.state.settings.redis_url, socket_connect_timeout=CHECK_TIMEOUT_S,
                            socket_timeout=CHECK_TIMEOUT_S)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _clickhouse(request: Request) -> None:
    from xinex.timeseries.store import get_store

    if not await get_store().ping():
        raise ConnectionError("ClickHouse did not answer the ping")


async def _outcome(check, request: Request) -> str:
    try:
        await asyncio.wait_for(check(request), CHECK_TIMEOUT_S)
    except TimeoutError:
        return f"unavailable: no answer within {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer; the class name says which
        return f"unavailable: {type(exc).__name__}"
    return "ok"


@router.get("/health/live", responses=json_example({"status": "ok", "version": __version__}))
async def live() -> dict:
    """Liveness: the process runs and serves HTTP. Checks no dependency."""
    return {"status": "ok", "version": __version__}


READY_RESPONSES = {**json_example({"status": "ok", "version": __version__, "checks": {"database": "ok", "redis": "ok"}}),
                   503: {"description": "A required dependency is unavailable"}}


@router.get("/health/ready", responses=READY_RESPONSES)
@router.get("/health", responses=READY_RESPONSES)
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when this process can serve (database reachable), else 503 naming the failure."""
    settings = request.app.state.settings
    checks = {"database": _database}
    if settings.redis_url:
        checks["redis"] = _redis
    if settings.clickhouse_url:
        checks["clickhouse"] = _clickhouse
    outcomes = dict(zip(checks, await asyncio.gather(*(_outcome(c, request) for c in checks.values())), strict=True))
    failed = [name for name, outcome in outcomes.items() if outcome != "ok"]
    required_failed = [name for name in failed if name in REQUIRED]
    if required_failed:
        log.warning("not ready: %s", ", ".join(f"{n} {outcomes[n]}" for n in failed))
        return error_response(503, "SERVICE_UNAVAILABLE", f"Not ready: {', '.join(required_failed)} unavailable",
                              {"checks": outcomes}, {"Retry-After": str(RETRY_AFTER_S)})
    return JSONResponse({"status": "degraded" if failed else "ok", "version": __version__, "checks": outcomes})
