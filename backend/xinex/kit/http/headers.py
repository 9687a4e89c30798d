"""The request headers the contract reads, found in one pass over the ASGI header list."""

from __future__ import annotations

from starlette.types import Scope

AUTHORIZATION, API_KEY, COOKIE = b"authorization", b"x-api-key", b"cookie"
REQUEST_ID, IF_NONE_MATCH = b"x-request-id", b"if-none-match"
SESSION_COOKIE_MARK = b"xinex_session="


def read(scope: Scope, if_none_match: bool) -> tuple[str | None, str | None, str | None]:
    """(credential, request id, If-None-Match), each the first one sent. The credential is the first
    Authorization, X-API-Key or session-carrying Cookie header, as sent (the rate-limit identity and the
    idempotency key's owner); If-None-Match is looked for only when asked (GET and HEAD)."""
    credential = request_id = etag = None
    for name, value in scope["headers"]:
        if credential is None and (name == AUTHORIZATION or name == API_KEY
                                   or (name == COOKIE and SESSION_COOKIE_MARK in value)):
            credential = value.decode("latin-1")
        elif request_id is None and name == REQUEST_ID:
            request_id = value.decode("latin-1")
        elif if_none_match and etag is None and name == IF_NONE_MATCH:
            etag = value.decode("latin-1")
    return credential, request_id, etag


def credential_of(scope: Scope) -> str | None:
    """The request's credential header value (see `read`)."""
    name: bytes
    value: bytes
    for name, value in scope["headers"]:
        if name == AUTHORIZATION or name == API_KEY or (name == COOKIE and SESSION_COOKIE_MARK in value):
            return value.decode("latin-1")
    return None
