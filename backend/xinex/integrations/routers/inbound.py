"""The senders' endpoints, at the root so a tool changes one base URL and nothing else:

- `POST /v2/enqueue`: PagerDuty Events API v2 (routing_key in the body); answers as PagerDuty does,
  202 `{status, message, dedup_key}` and 400 `{status: "invalid event", message, errors: [...]}`.
- `POST /v2/alerts`, `POST /v2/alerts/{identifier}/acknowledge|close?identifierType=alias|id|tiny`: Opsgenie's
  Alert API (`Authorization: GenieKey <key>`); answers 202 `{result, took, requestId}`, errors
  `{message, took, requestId}` (422 for a bad body, 401/404 for a bad key).
- `POST /hooks/{key}`: Alertmanager (webhook payload v4), Grafana (unified alerting webhook) and
  generic JSON webhooks (the integration's JMESPath mapping); errors in the catalog format.

Each answer's 2xx goes out after the transaction holding the alerts' outbox events committed
(integrations/writer.py: requests arriving together share one transaction, a group commit; the
key lookup is cached per process for a couple of seconds). A key no integration has is 404; a disabled
integration 403; past the integration's rate limit 429 with Retry-After.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from xinex.integrations import formats, repository, service, writer
from xinex.integrations.formats import PayloadError
from xinex.integrations.schemas import (
    HookAccepted,
    OpsgenieAccepted,
    OpsgenieError,
    PagerDutyAccepted,
    PagerDutyChangeAccepted,
    PagerDutyInvalid,
)
from xinex.kit.errors import AppError, ErrorBody, error_response
from xinex.kit.ratelimit import rate_limited
from xinex.models.integrations import Integration

router = APIRouter(tags=["inbound alerts"])

PD_INVALID = "Event object is invalid"


class _NotJson(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem


async def _json(request: Request) -> Any:
    return _decode(await request.body())


def _decode(raw: bytes) -> Any:
    if not raw.strip():
        raise _NotJson("the body is empty: send a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _NotJson(f"the body is not valid JSON: {exc}") from None
    return formats.storable(body)  # PayloadError past MAX_DEPTH


async def _limit(app: Any, i: Integration) -> dict[str, str] | None:
    """None when the request is within the integration's rate limit, else the 429's headers. A fixed
    per-minute window: one counter increment, shared by the requests of one event-loop tick (one
    Redis round trip for a burst, kit/ratelimit.py), where a moving window took two per request."""
    settings = app.state.settings
    state = await app.state.limiter.hit_fixed_window(
        service.rate_limit_text(i, settings.integration_rate_limit_per_minute), "integration", str(i.id))
    return None if state.allowed else rate_limited(state).headers


# --- PagerDuty Events API v2 ---------------------------------------------------------------------

def _pd_invalid(errors: list[str]) -> dict[str, Any]:
    return {"status": "invalid event", "message": PD_INVALID, "errors": errors}


PD_EXAMPLE = {"routing_key": "4f1c2a0b9e8d7c6b5a4f3e2d1c0b9a88", "event_action": "trigger",
              "dedup_key": "srv01/HTTP",
              "payload": {"summary": "HTTP 500s above 5% on srv01", "source": "srv01.example.com",
                          "severity": "critical", "component": "checkout", "group": "prod",
                          "custom_details": {"error_rate": "7.2%"}},
              "links": [{"href": "https://grafana.example.com/d/abc", "text": "dashboard"}]}
PD_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["routing_key", "event_action"],
    "properties": {
        "routing_key": {"type": "string", "minLength": 32, "maxLength": 32,
                        "description": "the integration's key (shown once at creation)"},
        "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {"type": "string", "maxLength": 255, "description": "required for acknowledge/resolve"},
        "payload": {"type": "object", "description": "required for trigger", "properties": {
            "summary": {"type": "string", "maxLength": 1024}, "source": {"type": "string"},
            "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
            "timestamp": {"type": "string"}, "component": {"type": "string"}, "group": {"type": "string"},
            "class": {"type": "string"}, "custom_details": {"type": "object"}}},
        "links": {"type": "array", "items": {"type": "object"}},
        "images": {"type": "array", "items": {"type": "object"}},
        "client": {"type": "string"}, "client_url": {"type": "string"}}},
    "example": PD_EXAMPLE}}}


@router.post("/v2/enqueue", status_code=202, response_model=PagerDutyAccepted,
             summary="Send an event (PagerDuty Events API v2-compatible)",
             openapi_extra={"requestBody": PD_BODY},
             responses={400: {"model": PagerDutyInvalid, "description": "the event is invalid: errors name each field"},
                        403: {"model": PagerDutyInvalid, "description": "the integration is disabled"},
                        404: {"model": PagerDutyInvalid, "description": "no integration has this routing key"},
                        429: {"model": PagerDutyInvalid, "description": "past the integration's rate limit"},
                        413: {"model": ErrorBody, "description": "body over the inbound cap (512 KiB by default)"}})
async def enqueue(request: Request) -> JSONResponse:
    """Trigger, acknowledge or resolve an alert by `dedup_key`, exactly as PagerDuty's
    `https://events.pagerduty.com/v2/enqueue` does: a trigger opens an incident (or appends to the open
    one of its dedup key: retries never page twice), acknowledge stops its escalation, resolve resolves
    it. A trigger without dedup_key gets one, returned in the answer. The routing key is the key of an
    integration of kind `pagerduty`. 400 `invalid event` lists every problem; 404 an unknown routing key."""
    status, content, headers = await pagerduty_event(request.app, await request.body())
    return JSONResponse(content, status_code=status, headers=headers)  # pragma: no cover - EventsFastPath answers


async def pagerduty_event(app: Any, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str] | None]:
    """The whole of `POST /v2/enqueue` on a read body: (status, JSON answer, headers)."""
    try:
        routing_key, alert = formats.pagerduty_event(_decode(raw))
    except _NotJson as exc:
        return 400, _pd_invalid([exc.problem]), None
    except PayloadError as exc:
        return 400, _pd_invalid(exc.errors), None
    i = await repository.by_key(app.state.db, routing_key)
    refusal = await _pd_refusal(app, i)
    if refusal is not None:
        return refusal
    assert i is not None
    await writer.writer_for(app).submit(i, [alert])
    return 202, {"status": "success", "message": "Event processed", "dedup_key": alert.key}, None


CHANGE_EXAMPLE = {"routing_key": "4f1c2a0b9e8d7c6b5a4f3e2d1c0b9a88",
                  "payload": {"summary": "Deployed checkout v2.14.0", "timestamp": "2026-12-04T21:00:00Z",
                              "source": "ci.example.com", "custom_details": {"commit": "3f9a2c1"}},
                  "links": [{"href": "https://ci.example.com/builds/812", "text": "build 812"}]}
CHANGE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["routing_key", "payload"],
    "properties": {
        "routing_key": {"type": "string", "minLength": 32, "maxLength": 32},
        "payload": {"type": "object", "required": ["summary"], "properties": {
            "summary": {"type": "string", "minLength": 1, "maxLength": 1024},
            "timestamp": {"type": "string", "format": "date-time"}, "source": {"type": "string"},
            "custom_details": {"type": "object"}}},
        "links": {"type": "array", "items": {"type": "object"}}}},
    "example": CHANGE_EXAMPLE}}}


@router.post("/v2/change/enqueue", status_code=202, response_model=PagerDutyChangeAccepted,
             summary="Send a change event (PagerDuty Change Events-compatible)",
             openapi_extra={"requestBody": CHANGE_BODY},
             responses={400: {"model": PagerDutyInvalid, "description": "the event is invalid: errors name each field"},
                        403: {"model": PagerDutyInvalid, "description": "the integration is disabled"},
                        404: {"model": PagerDutyInvalid, "description": "no integration has this routing key"},
                        429: {"model": PagerDutyInvalid, "description": "past the integration's rate limit"},
                        413: {"model": ErrorBody, "description": "body over the inbound cap (512 KiB by default)"}})
async def change_enqueue(request: Request) -> JSONResponse:
    """A deploy or configuration change, as PagerDuty's `https://events.pagerduty.com/v2/change/enqueue`
    takes it (routing key of an integration of kind `pagerduty`; `payload.summary` required, `timestamp`,
    `source`, `custom_details`, `links` kept). It pages nobody: it becomes an annotation of the team
    (tagged `change`, `integration=<name>`, `source=<source>`), drawn on charts next to the incidents.
    202 once stored; errors as `/v2/enqueue`'s."""
    try:
        routing_key, change = formats.pagerduty_change(await _json(request))
    except _NotJson as exc:
        return JSONResponse(_pd_invalid([exc.problem]), status_code=400)
    except PayloadError as exc:
        return JSONResponse(_pd_invalid(exc.errors), status_code=400)
    i = await repository.by_key(request.app.state.db, routing_key)
    refusal = await _pd_refusal(request.app, i)
    if refusal is not None:
        return JSONResponse(refusal[1], status_code=refusal[0], headers=refusal[2])
    assert i is not None
    await service.record_change(request.app.state.db, i, change)
    return JSONResponse({"status": "success", "message": "Change event processed"}, status_code=202)


async def _pd_refusal(app: Any, i: Integration | None) -> tuple[int, dict[str, Any], dict[str, str] | None] | None:
    """The answer refusing a routing key (unknown, another kind, disabled, over its rate limit), or None."""
    if i is None:
        return 404, _pd_invalid(["Invalid routing key: no integration has it (rotated or deleted?)"]), None
    if i.kind != "pagerduty":
        return 400, _pd_invalid([f"this routing key belongs to an integration of kind {i.kind}, not pagerduty"]), None
    if not i.enabled:
        return 403, _pd_invalid(["the integration of this routing key is disabled"]), None
    throttled = await _limit(app, i)
    if throttled is not None:
        return 429, {"status": "throttle event", "message": "Requests for this integration are arriving too quickly. "
                     "Please retry later.", "errors": ["rate limit exceeded"]}, throttled
    return None


class EventsFastPath:
    """ASGI middleware, innermost: answers `POST /v2/enqueue` itself, skipping FastAPI's route
    matching, dependency solving and response classes, which cost more CPU than storing the event
    (the inbound path's highest-rate request; like heartbeats' PingFastPath). The contract
    middlewares (request id, global rate limit, body cap, idempotency) still wrap it; the route
    above only documents it (OpenAPI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/v2/enqueue" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # nobody to answer (a body over the cap was answered 413 already)
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        try:
            status, content, headers = await pagerduty_event(scope["app"], b"".join(chunks))
        except AppError as exc:  # the database is unreachable: the catalog's 503, retryable
            await error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)(scope, receive, send)
            return
        try:
            body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
        except UnicodeEncodeError:  # an echoed unpaired surrogate: the same JSON, ASCII-escaped
            body = json.dumps(content, separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items())]})
        await send({"type": "http.response.body", "body": body})


# --- Opsgenie Alert API -----------------------------------------------------------------------------

class _OpsgenieRefusal(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.message, self.headers = status, message, headers


def _og(status: int, started: float, **fields: Any) -> JSONResponse:
    return JSONResponse({**fields, "took": round(time.perf_counter() - started, 3), "requestId": str(uuid.uuid4())},
                        status_code=status)


async def _genie(request: Request) -> Integration:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "geniekey" or not key.strip():
        raise _OpsgenieRefusal(401, "Could not authenticate: send Authorization: GenieKey <the integration's key>")
    i = await repository.by_key(request.app.state.db, key.strip())
    if i is None:
        raise _OpsgenieRefusal(401, "Could not authenticate: no integration has this key (rotated or deleted?)")
    if i.kind != "opsgenie":
        raise _OpsgenieRefusal(403, f"This key belongs to an integration of kind {i.kind}, not opsgenie")
    if not i.enabled:
        raise _OpsgenieRefusal(403, "The integration of this key is disabled")
    throttled = await _limit(request.app, i)
    if throttled is not None:
        raise _OpsgenieRefusal(429, "You are making too many requests! To avoid errors, we recommend you limit "
                                    "requests.", throttled)
    return i


OG_CREATE_EXAMPLE = {"message": "Disk 91% full on db-1", "alias": "db-1/disk", "priority": "P2",
                     "tags": ["db", "prod"], "entity": "db-1", "details": {"mount": "/var/lib/postgresql"},
                     "description": "Free space is below 10%"}
OG_CREATE_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["message"], "properties": {
        "message": {"type": "string", "minLength": 1, "maxLength": 130},
        "alias": {"type": "string", "maxLength": 512},
        "description": {"type": "string", "maxLength": 15000},
        "priority": {"type": "string", "enum": ["P1", "P2", "P3", "P4", "P5"]},
        "tags": {"type": "array", "items": {"type": "string"}},
        "details": {"type": "object"}, "entity": {"type": "string"}, "source": {"type": "string"},
        "user": {"type": "string"}, "note": {"type": "string"}}},
    "example": OG_CREATE_EXAMPLE}}}
OG_ACTION_BODY = {"required": False, "content": {"application/json": {"schema": {
    "type": "object", "properties": {"user": {"type": "string"}, "source": {"type": "string"},
                                     "note": {"type": "string"}}},
    "example": {"user": "Monitoring Script", "source": "AWS Lambda", "note": "Action executed via Alert API"}}}}
OG_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": OpsgenieError, "description": "no GenieKey, or one no integration has"},
    403: {"model": OpsgenieError, "description": "the integration is disabled or of another kind"},
    422: {"model": OpsgenieError, "description": "the body is invalid: the message says what"},
    429: {"model": OpsgenieError, "description": "past the integration's rate limit"}}
OG_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {**OG_RESPONSES, 404: {
    "model": OpsgenieError, "description": "identifierType id or tiny naming no incident of this integration"}}


@router.post("/v2/alerts", status_code=202, response_model=OpsgenieAccepted,
             summary="Create an alert (Opsgenie Alert API-compatible)", openapi_extra={"requestBody": OG_CREATE_BODY},
             responses=OG_RESPONSES)
async def opsgenie_create(request: Request) -> JSONResponse:
    """Create an alert the way Opsgenie's `POST /v2/alerts` does, authorized by
    `Authorization: GenieKey <key>` (the key of an integration of kind `opsgenie`). Alerts of one `alias`
    are one incident (a second create with an open alias appends to it); priority P1-P5 maps to
    critical, error, warning, info, info. 202 once stored."""
    started = time.perf_counter()
    try:
        i = await _genie(request)
        alert = formats.opsgenie_create(await _json(request))
    except _OpsgenieRefusal as exc:
        return _og_refusal(exc, started)
    except _NotJson as exc:
        return _og(422, started, message=exc.problem)
    except PayloadError as exc:
        return _og(422, started, message=" ".join(exc.errors))
    await writer.writer_for(request.app).submit(i, [alert])
    return _og(202, started, result="Request will be processed")


def _og_refusal(exc: _OpsgenieRefusal, started: float) -> JSONResponse:
    response = _og(exc.status, started, message=exc.message)
    response.headers.update(exc.headers or {})
    return response


async def _opsgenie_action(request: Request, identifier: str, identifier_type: str,
                           action: str) -> JSONResponse:
    started = time.perf_counter()
    try:
        i = await _genie(request)
        if identifier_type not in ("alias", "id", "tiny"):
            return _og(422, started, message=f"identifierType {identifier_type!r} is not one of alias, id, tiny")
        if identifier_type != "alias":
            alias = await repository.sender_key_of_incident(request.app.state.db, i, identifier, identifier_type)
            if alias is None:
                return _og(404, started, message=f"Alert with {identifier_type} [{identifier}] does not exist "
                                                 "among this integration's incidents")
            identifier = alias
        raw = await request.body()
        body = formats.storable(json.loads(raw)) if raw.strip() else None
        alert = formats.opsgenie_action(formats.storable(identifier), action, body)
    except _OpsgenieRefusal as exc:
        return _og_refusal(exc, started)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        return _og(422, started, message=f"the body is not valid JSON: {exc}")
    except PayloadError as exc:
        return _og(422, started, message=" ".join(exc.errors))
    await writer.writer_for(request.app).submit(i, [alert])
    return _og(202, started, result="Request will be processed")


@router.post("/v2/alerts/{identifier:path}/acknowledge", status_code=202, response_model=OpsgenieAccepted,
             summary="Acknowledge an alert by alias or id (Opsgenie-compatible)",
             openapi_extra={"requestBody": OG_ACTION_BODY}, responses=OG_ACTION_RESPONSES)
async def opsgenie_acknowledge(identifier: str, request: Request,
                               identifierType: str = "id") -> JSONResponse:  # noqa: N803 - Opsgenie's name
    """Acknowledge the open incident of this alias (`identifierType=alias`), as Opsgenie's
    `POST /v2/alerts/{identifier}/acknowledge` does: its escalation stops. Nothing open: accepted and
    recorded, nothing changes. `identifierType=id` names the alert by its Xinex incident id, `tiny` by
    that id's first 8 hexadecimal digits (404 when no incident of this integration has it)."""
    return await _opsgenie_action(request, identifier, identifierType, "acknowledge")


@router.post("/v2/alerts/{identifier:path}/close", status_code=202, response_model=OpsgenieAccepted,
             summary="Close an alert by alias or id (Opsgenie-compatible)",
             openapi_extra={"requestBody": OG_ACTION_BODY}, responses=OG_ACTION_RESPONSES)
async def opsgenie_close(identifier: str, request: Request,
                         identifierType: str = "id") -> JSONResponse:  # noqa: N803
    """Close the open incident of this alias (`identifierType=alias`), as Opsgenie's
    `POST /v2/alerts/{identifier}/close` does: it resolves, unless its routing rule keeps incidents
    open for people to resolve (`auto_resolve: false`). `identifierType=id` (the incident id) and `tiny`
    (its first 8 hexadecimal digits) name it too; 404 when no incident of this integration has it."""
    return await _opsgenie_action(request, identifier, identifierType, "resolve")


# --- Alertmanager, Grafana, generic JSON ----------------------------------------------------------------

AM_EXAMPLE = {
    "version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0, "status": "firing",
    "receiver": "xinex", "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "severity": "critical", "team": "payments"},
    "commonAnnotations": {"summary": "5xx above 5% on checkout"}, "externalURL": "http://alertmanager:9093",
    "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "severity": "critical",
                                                "team": "payments", "instance": "checkout-1:8080"},
                "annotations": {"summary": "5xx above 5% on checkout"},
                "startsAt": "2026-12-04T21:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=...", "fingerprint": "c6e8a5d4b3f21a09"}]}
HOOK_BODY = {"required": True, "content": {"application/json": {
    "schema": {"type": "object", "description": "Alertmanager webhook payload v4, Grafana's unified alerting "
                                                "webhook, or any JSON for a generic webhook's mapping"},
    "example": AM_EXAMPLE}}}


@router.post("/hooks/{key}", status_code=202, response_model=HookAccepted,
             summary="Post alerts to an integration's URL (Alertmanager, Grafana, generic webhook)",
             openapi_extra={"requestBody": HOOK_BODY},
             responses={400: {"model": ErrorBody, "description": "the body is not what this kind reads: "
                                                                 "details.errors names each problem"},
                        403: {"model": ErrorBody, "description": "the integration is disabled"},
                        404: {"model": ErrorBody, "description": "no integration has this key"},
                        413: {"model": ErrorBody, "description": "body over the inbound cap"},
                        429: {"model": ErrorBody, "description": "past the integration's rate limit"}})
async def hook(key: str, request: Request) -> JSONResponse:
    """The ingestion URL of an `alertmanager`, `grafana` or `webhook` integration (its key is the last
    segment). Alertmanager and Grafana: every alert of the group is deduplicated by its fingerprint,
    `firing` triggers and `resolved` resolves; labels become tags `name=value` for routing rules and
    silences; severity from the `severity` label through the integration's severity_map. Generic: the
    integration's JMESPath mapping. 400 names every problem (details.errors)."""
    i = await repository.by_key(request.app.state.db, key)
    if i is None:
        raise AppError("NOT_FOUND", "No integration has this URL (its key was rotated or it was deleted)")
    if not i.enabled:
        raise AppError("FORBIDDEN", "This integration is disabled")
    throttled = await _limit(request.app, i)
    if throttled is not None:
        return error_response(429, "RATE_LIMITED", "Too many requests for this integration; retry after "
                              "Retry-After seconds", {"integration_id": str(i.id)}, headers=throttled)
    try:
        alerts = service.parse_hook(i, await _json(request))
    except _NotJson as exc:
        raise AppError("BAD_REQUEST", exc.problem, details={"errors": [exc.problem]}) from None
    except PayloadError as exc:
        raise AppError("BAD_REQUEST", f"The {i.kind} payload is invalid: {exc.errors[0]}"
                       + (f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""),
                       details={"errors": exc.errors}) from None
    keys = await writer.writer_for(request.app).submit(i, alerts)
    return JSONResponse(HookAccepted(status="accepted", alerts=len(keys), dedup_keys=keys).model_dump(),
                        status_code=202)
