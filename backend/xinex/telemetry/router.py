"""POST /dsl (OQL) and the dashboard reads under /telemetry: a trace as a span tree, log search,
services. Reads need the telemetry:read scope (POST /dsl too: it changes nothing)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from xinex.annotations import service as annotations
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import UTCInstant, utcnow
from xinex.telemetry import read
from xinex.telemetry.oql import CostLimits, OQLError, compile_oql, run_oql
from xinex.telemetry.schemas import DslIn, DslOut, LogOut, ServiceOut, TraceOut
from xinex.telemetry.store_access import ensure_schema, store_for, tenant_query

router = APIRouter(tags=["telemetry"])
Reader = Annotated[Principal, Depends(Authorize("telemetry", write=False))]
_HEX32 = re.compile(r"^[0-9a-f]{32}$")


# What the time-series store can hold and compare (DateTime64 with nanoseconds ends in April 2262).
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2262, 4, 11, tzinfo=UTC)


def _storable(value: datetime) -> datetime:
    if not MIN_TIME <= value <= MAX_TIME:
        raise PydanticCustomError("datetime_range", "must be between {min} and {max}",
                                  {"min": "1900-01-01T00:00:00Z", "max": "2262-04-11T00:00:00Z"})
    return value


TelemetryTime = Annotated[UTCInstant, AfterValidator(_storable)]


def _limits(request: Request) -> CostLimits:
    """The OQL cost limits (app.state.oql_limits overrides), for /dsl and every dashboard read."""
    return getattr(request.app.state, "oql_limits", None) or CostLimits()


def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


def _range(since: datetime | None, until: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    if until is None:
        until = utcnow()
        if since is not None and since >= until:
            raise _invalid("from", "is in the future; give an earlier from, or a to after it")
    since = since or max(until - default, MIN_TIME)
    if until <= since:
        raise _invalid("to", "must be after from")
    return since, until


From = Annotated[TelemetryTime | None, Query(alias="from", description="RFC 3339 start (inclusive); no offset = UTC")]
To = Annotated[TelemetryTime | None, Query(alias="to", description="RFC 3339 end (exclusive); no offset = UTC")]


@router.post("/dsl", response_model=DslOut, response_model_exclude_none=True,
             responses=error_responses(400, 401, 403, 422, 429, 503))
async def run_dsl(data: DslIn, request: Request, principal: Reader, session: SessionDep):
    """Run an OQL query (SELECT … FROM spans | traces | logs | metrics | host | checks …, see docs/telemetry.md)
    over the tenant's telemetry and answer columns and rows; with annotations, also the annotations of the
    query's time range. A query that does not parse or names an unknown source, field or function is a 400
    whose code (OQL_*) and details say where and what is valid. 429: the tenant's query concurrency is
    exhausted (Retry-After); 503: the store is unavailable."""
    try:
        compiled = compile_oql(data.query, principal.tenant_id, utcnow(), _limits(request))
    except OQLError as exc:
        raise AppError(exc.code, exc.message, status=400, details=exc.details) from None
    store = store_for(request)
    async with tenant_query(request, principal.tenant_id):
        await ensure_schema(store)
        out = await run_oql(store, compiled)
    if data.annotations:
        out["annotations"] = await annotations.overlay(session, compiled.since, compiled.until)
    return out


@router.get("/telemetry/traces/{trace_id}",
            responses={200: {"model": TraceOut, "description": "the span tree"},
                       **error_responses(401, 403, 404, 422, 503)})
async def get_trace(request: Request, principal: Reader,
                    trace_id: Annotated[str, Path(description="32 hex digits", json_schema_extra={"pattern": "^[0-9A-Fa-f]{32}$"})],
                    since: From = None, until: To = None):
    """One trace as a span tree (spans with attributes, events and links, timestamps in nanoseconds), searched
    within [from, to) when given. 404: no such trace in this tenant; 503: the telemetry store is
    unavailable."""
    trace_id = trace_id.lower()
    if not _HEX32.match(trace_id):
        raise _invalid("trace_id", "must be 32 hexadecimal digits")
    if since is not None and until is not None and until <= since:
        raise _invalid("to", "must be after from")
    store = store_for(request)
    async with tenant_query(request, principal.tenant_id):
        await ensure_schema(store)
        tree = await read.trace_tree(store, principal.tenant_id, trace_id, since, until,
                                     _limits(request).settings())
    if tree is None:
        raise AppError("NOT_FOUND", "trace not found")
    return JSONResponse(tree)


@router.get("/telemetry/logs", response_model=Page[LogOut], responses=error_responses(401, 403, 422, 429, 503))
async def search_logs(request: Request, principal: Reader, params: PageDep, since: From = None, until: To = None,
                      service: Annotated[str | None, Query(max_length=200)] = None,
                      severity: Annotated[str | None, Query(max_length=20, description="e.g. ERROR")] = None,
                      min_severity: Annotated[int | None, Query(ge=0, le=24, description="OTLP number")] = None,
                      q: Annotated[str | None, Query(max_length=500, description="text in the body")] = None,
                      trace_id: Annotated[str | None, Query(pattern="^[0-9a-fA-F]{32}$")] = None):
    """Log records in [from, to), newest first, filtered by service, severity text or minimum OTLP severity number,
    text in the body, or trace id. 429: the tenant's query concurrency is exhausted (Retry-After)."""
    since, until = _range(since, until, timedelta(hours=1))
    store = store_for(request)
    async with tenant_query(request, principal.tenant_id):
        await ensure_schema(store)
        items, total = await read.search_logs(
            store, principal.tenant_id, since, until, service=service, severity=severity,
            min_severity=min_severity, q=q, trace_id=trace_id.lower() if trace_id else None,
            offset=params.offset, limit=params.per_page, settings=_limits(request).settings())
    return Page.of(items, total, params)


@router.get("/telemetry/services", response_model=Page[ServiceOut], responses=error_responses(401, 403, 422, 429, 503))
async def list_services(request: Request, principal: Reader, params: PageDep, since: From = None, until: To = None):
    """The services that sent telemetry in [from, to), with span and log counts, error rate, p95 latency and when last seen. 429: the tenant's query concurrency is
    exhausted (Retry-After)."""
    since, until = _range(since, until, timedelta(hours=24))
    store = store_for(request)
    async with tenant_query(request, principal.tenant_id):
        await ensure_schema(store)
        items = await read.services(store, principal.tenant_id, since, until, _limits(request).settings())
    return Page.of(items[params.offset:params.offset + params.per_page], len(items), params)
