"""The error catalog (DESIGN §1): every error leaves as {"error", "code", "details"}."""

from __future__ import annotations

import json
import logging
import socket
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("xinex.errors")

# Seconds a client should wait before retrying a 503: a dependency failing over or restarting.
RETRY_AFTER_S = 5

# code -> (default status, what it means). Documented in docs/errors.md and in OpenAPI.
CATALOG: dict[str, tuple[int, str]] = {
    "VALIDATION_FAILED": (422, "The request body, query or path did not validate; details lists each field."),
    "BAD_REQUEST": (400, "The request is malformed."),
    "UNAUTHENTICATED": (401, "No valid credential was presented."),
    "FORBIDDEN": (403, "The credential is valid but may not do this."),
    "NOT_FOUND": (404, "No such object (or it belongs to another tenant)."),
    "METHOD_NOT_ALLOWED": (405, "This path does not accept that method."),
    "CONFLICT": (409, "The object conflicts with an existing one."),
    "IDEMPOTENCY_KEY_IN_USE": (409, "A request with this Idempotency-Key is still being processed."),
    "IDEMPOTENCY_KEY_REUSED": (422, "This Idempotency-Key was used with a different request."),
    "PRECONDITION_FAILED": (412, "If-Match did not match the current version."),
    "PAYLOAD_TOO_LARGE": (413, "The request body is too large."),
    "TIER_LIMIT_EXCEEDED": (403, "The tenant's plan does not allow more of this."),
    "FEATURE_NOT_IN_TIER": (403, "The tenant's plan does not include this feature."),
    "SSO_REQUIRED": (403, "This tenant requires single sign-on."),
    "ACCOUNT_DISABLED": (403, "The account is disabled; it cannot sign in."),
    "RATE_LIMITED": (429, "Too many requests; retry after Retry-After seconds."),
    "TOKEN_INVALID": (400, "The token is invalid, expired or already used."),
    "INTERNAL_ERROR": (500, "An unexpected error occurred; the request id identifies it."),
    "SERVICE_UNAVAILABLE": (503, "A dependency is unavailable; retry later."),
    # OQL (POST /dsl): details carry line/column/expected, or the valid fields/sources/functions.
    "OQL_SYNTAX_ERROR": (400, "The OQL query does not parse; details give line, column and what was expected."),
    "OQL_UNKNOWN_SOURCE": (400, "The OQL query reads a source that does not exist; details list the valid ones."),
    "OQL_UNKNOWN_FIELD": (400, "The OQL query names a field the source does not have; details list the valid ones."),
    "OQL_UNKNOWN_FUNCTION": (400, "The OQL query calls a function that does not exist; details list the valid ones."),
    "OQL_INVALID_QUERY": (400, "The OQL query is well-formed but cannot run as written."),
    "OQL_INVALID": (400, "The OQL query is invalid."),
    "QUERY_LIMIT_EXCEEDED": (422, "The query hit a cost limit (time, rows read or memory); narrow it."),
    "BILLING_NOT_CONFIGURED": (409, "Billing is not configured on this server (no Stripe secret key)."),
    "PAYMENT_PROVIDER_ERROR": (502, "The payment provider (Stripe) refused or failed the request."),
}


class AppError(Exception):
    """Raise anywhere; the handler turns it into the catalog format."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        default_status, default_message = CATALOG[code]
        self.code = code
        self.status = status or default_status
        self.message = message or default_message
        self.details = details or {}
        self.headers = headers or {}
        if self.status == 503:
            self.headers.setdefault("Retry-After", str(RETRY_AFTER_S))
        super().__init__(self.message)


def not_found(what: str = "object") -> AppError:
    return AppError("NOT_FOUND", f"{what} not found")


class ErrorBody(BaseModel):
    error: str
    code: str
    details: dict[str, Any] = {}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None, headers=None
) -> JSONResponse:
    return _SafeJSONResponse(
        {"error": message, "code": code, "details": details or {}}, status_code=status, headers=headers
    )


class _SafeJSONResponse(JSONResponse):
    """An error may echo what the client sent, and that may hold an unpaired surrogate (from a
    JSON escape) that UTF-8 cannot encode: then the body is sent ASCII-escaped (still the same
    JSON, `\\ud800` as the client wrote it), not a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _field_name(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or (str(loc[0]) if loc else "request")


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
}


def _input_the_database_refused(exc: StatementError) -> str | None:
    """Why a statement failed because of a value it carried (and so the caller's input), or None.

    A back-stop for a field the schema forgot to bound: a string with NUL (PostgreSQL text and
    JSONB refuse it), a number or time outside the column's range, a lone surrogate. Each of
    these is the client's data and answers 422, never 500; anything else stays a 500.
    """
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(exc, DBAPIError) and isinstance(state, str):
        if state in ("22021", "22P05"):
            return "contains a character that cannot be stored (such as NUL, \\u0000)"
        if state.startswith("22"):  # SQLSTATE class 22: data exception (out of range, too long, …)
            return "contains a value outside what can be stored"
        return None
    # Refused before it reached the server: asyncpg's DataError (invalid query argument), or a
    # bind-parameter conversion (a time that overflows when converted to UTC, a lone surrogate).
    seen = 0
    cause: BaseException | None = orig
    while cause is not None and seen < 5:
        if type(cause).__name__ == "DataError" and type(cause).__module__.startswith("asyncpg"):
            return "contains a value outside what can be stored"
        if isinstance(cause, (OverflowError, UnicodeEncodeError)):
            return "contains a value outside what can be stored"
        cause = cause.__cause__
        seen += 1
    return None


# SQLSTATEs that mean the server cannot serve now, not that the statement was wrong: class 08
# (connection exception), 53300 too_many_connections, 57P01-57P03 shutdown / cannot connect now.
_UNAVAILABLE_SQLSTATES = ("53300", "57P01", "57P02", "57P03")


def unavailable_dependency(exc: BaseException) -> str | None:
    """'database' or 'redis' when `exc` means that dependency could not be reached (the request
    may succeed later: 503 + Retry-After), None for anything else (a real 500)."""
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 6:
        module = type(cause).__module__
        if module.startswith(("redis", "coredis")) and _is_connection_error(cause):
            return "redis"
        if isinstance(cause, PoolTimeoutError):
            return "database"  # every pooled connection busy, or none could be made in time
        if isinstance(cause, DBAPIError) and type(cause.orig).__name__ == "OperationalError" \
                and "database is locked" in str(cause.orig):
            # Embedded SQLite: another writer won a race the write gate could not order (a read
            # snapshot taken before the gate). Nothing was written; the retry succeeds.
            return "database"
        if isinstance(cause, DBAPIError) and cause.connection_invalidated:
            return "database"
        if module.startswith("asyncpg") and _asyncpg_unavailable(cause):
            return "database"
        if isinstance(cause, (ConnectionError, TimeoutError, socket.gaierror)):
            # Refused, reset, timed out or unresolvable before any protocol spoke: asyncpg raises
            # these as they are when it cannot connect. Whose connection it was, the traceback says.
            raised_in = _raised_in(cause)
            if raised_in is not None:
                return raised_in
        if seen and not module.startswith(("sqlalchemy", "asyncpg", "redis", "coredis")):
            return None  # follow a driver's own wrapping only, not any error's whole history
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return None


def _raised_in(exc: BaseException) -> str | None:
    """'database' or 'redis' when `exc` was raised inside that dependency's client library."""
    tb = exc.__traceback__
    found = None
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(("asyncpg", "aiosqlite", "sqlalchemy.pool", "sqlalchemy.dialects")):
            found = "database"
        elif module.startswith(("redis", "coredis", "arq", "limits")):
            found = "redis"
        tb = tb.tb_next
    return found


def _asyncpg_unavailable(exc: BaseException) -> bool:
    state = getattr(exc, "sqlstate", None)
    if isinstance(state, str) and (state.startswith("08") or state in _UNAVAILABLE_SQLSTATES):
        return True
    name = type(exc).__name__
    # A plain InterfaceError is also asyncpg's word for misuse (a bug: 500); "connection is closed" is not.
    return name in ("ConnectionDoesNotExistError", "ConnectionFailureError") or (
        name == "InterfaceError" and "closed" in str(exc))


def _is_connection_error(exc: BaseException) -> bool:
    names = {klass.__name__ for klass in type(exc).__mro__}
    return bool(names & {"ConnectionError", "TimeoutError", "BusyLoadingError"})


_unavailable_logged: dict[str, tuple[float, int]] = {}  # dependency -> (last warning, 503s since)
UNAVAILABLE_LOG_EVERY_S = 10.0


def _count_unavailable(dependency: str, request_id: str | None) -> None:
    # One line per dependency every few seconds, with the count, not one per refused request.
    now = time.monotonic()
    last, count = _unavailable_logged.get(dependency, (-UNAVAILABLE_LOG_EVERY_S, 0))
    if now - last >= UNAVAILABLE_LOG_EVERY_S:
        log.warning("%s unavailable: %d request(s) answered 503", dependency, count + 1,
                    extra={"request_id": request_id})
        _unavailable_logged[dependency] = (now, 0)
    else:
        _unavailable_logged[dependency] = (last, count + 1)


def unavailable_response(dependency: str, request_id: str | None = None) -> JSONResponse:
    _count_unavailable(dependency, request_id)
    return error_response(503, "SERVICE_UNAVAILABLE", f"The service is temporarily unavailable ({dependency}); "
                          "retry later", {"dependency": dependency}, {"Retry-After": str(RETRY_AFTER_S)})


def unavailable_error(dependency: str, message: str) -> AppError:
    """The 503 of `unavailable_response` as an error to raise (paths that answer AppErrors
    themselves, e.g. pings), counted in the same rate-limited log line."""
    _count_unavailable(dependency, None)
    return AppError("SERVICE_UNAVAILABLE", message, details={"dependency": dependency},
                    headers={"Retry-After": str(RETRY_AFTER_S)})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError):
        # Domains watch errors here without kit knowing them (e.g. the audit log's 403 record).
        for observe in getattr(request.app.state, "error_observers", ()):
            await observe(request, exc)
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        fields: dict[str, str] = {}
        for err in exc.errors():
            # Unparseable JSON reports a character offset as its location; name the body instead.
            loc = ("body",) if err.get("type") == "json_invalid" else tuple(err.get("loc", ()))
            name = _field_name(loc)
            fields.setdefault(name, err.get("msg", "invalid"))
        return error_response(422, "VALIDATION_FAILED", "The request did not validate", {"fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            # FastAPI's word for a body that is not JSON it can decode (e.g. not UTF-8): a validation
            # failure of the body like any other, as docs/errors.md promises.
            return error_response(422, "VALIDATION_FAILED", "The request did not validate",
                                  {"fields": {"body": "is not a JSON document in UTF-8"}})
        if exc.status_code == 404 and exc.detail == "Not Found":
            # The router found no route: not the "missing or another tenant's object" answer.
            return error_response(404, "NOT_FOUND", "No such route", {"path": request.url.path[:200]})
        if exc.status_code == 405:
            from xinex.kit.routing import allowed_methods

            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        code = _STATUS_CODES.get(exc.status_code, "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL_ERROR")
        message = CATALOG[code][1] if exc.status_code in (404, 405) else str(exc.detail)
        return error_response(exc.status_code, code, message, headers=headers or None)

    @app.exception_handler(StatementError)
    async def _statement_error(request: Request, exc: StatementError):
        reason = _input_the_database_refused(exc)
        if reason is None:
            return await _unexpected(request, exc)
        # Still a gap in some schema: keep the trace, at warning level, to close it there.
        log.warning("input refused by the database", exc_info=exc,
                    extra={"request_id": getattr(request.state, "request_id", None)})
        return error_response(422, "VALIDATION_FAILED", "The request did not validate",
                              {"fields": {"request": f"The request {reason}"}})

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect):
        # The client hung up while sending its body: nothing was stored and nobody reads the answer.
        return error_response(400, "BAD_REQUEST", "The client disconnected before sending the whole request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        dependency = unavailable_dependency(exc)
        if dependency is not None:
            return unavailable_response(dependency, getattr(request.state, "request_id", None))
        log.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", None)})
        return error_response(500, "INTERNAL_ERROR", CATALOG["INTERNAL_ERROR"][1])


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for the catalog statuses an endpoint can answer."""
    return {code: {"model": ErrorBody, "description": "Error in the catalog format"} for code in codes}
