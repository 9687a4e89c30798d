"""The store the API reads telemetry from, and store errors → catalog errors."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from xinex.kit.errors import AppError
from xinex.timeseries.store import StoreQueryError, StoreUnavailableError, TimeSeriesStore, get_store

log = logging.getLogger("xinex.telemetry")
RETRY_AFTER_S = 5
_migrated: set[int] = set()


def store_for(request: Request) -> TimeSeriesStore:
    # app.state.telemetry_store lets an app read from another store (a ClickHouse cluster, tests).
    return getattr(request.app.state, "telemetry_store", None) or get_store()


async def ensure_schema(store: TimeSeriesStore) -> None:
    if id(store) not in _migrated:
        await store.migrate()  # idempotent; on a fresh store the tables may not exist yet
        _migrated.add(id(store))


@asynccontextmanager
async def tenant_query(request: Request, tenant_id: uuid.UUID) -> AsyncIterator[None]:
    """A slot of the tenant's query concurrency (telemetry/query_gate.py; 429 past it), then
    store errors mapped as in store_errors()."""
    async with request.app.state.oql_gate.slot(tenant_id), store_errors():
        yield


@asynccontextmanager
async def store_errors() -> AsyncIterator[None]:
    """Store down → 503 + Retry-After; a cost limit → 422 QUERY_LIMIT_EXCEEDED; any other
    refusal → 400 OQL_INVALID_QUERY naming only ClickHouse's error name (no SQL leaks out)."""
    try:
        yield
    except StoreUnavailableError:
        raise AppError("SERVICE_UNAVAILABLE", "The telemetry store is unavailable; retry later",
                       headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    except StoreQueryError as exc:
        if exc.limit_exceeded:
            raise AppError("QUERY_LIMIT_EXCEEDED", "The query hit a cost limit (time, rows read or memory); "
                           "narrow the time range or add filters", details={"clickhouse_code": exc.code}) from None
        log.warning("telemetry query failed: %s", exc)
        raise AppError("OQL_INVALID_QUERY", "The query could not be executed",
                       details={"reason": exc.name or "QUERY_FAILED"}) from None
