"""Who acts and from where, for the audit records a use case keeps: built once per request by a dependency,
so services take an `AuditContext` instead of FastAPI's `Request`.

    async def create(session, audit_ctx: AuditContext, principal, data): ...
        audit.record(session, "thing.created", context=audit_ctx, principal=principal, ...)

    @router.post("/things")
    async def create_thing(data: ThingIn, principal: Writer, session: SessionDep, audit_ctx: AuditCtx): ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from xinex.identity.principal import Principal

USER_AGENT_MAX = 400


def _nobody() -> Principal | None:
    return None


@dataclass(frozen=True)
class AuditContext:
    """The request facts an audit record keeps: the client address (as the HTTP contract middleware
    resolved it behind trusted proxies), the user agent (cut to the column's 400 characters) and the
    request id (the X-Request-Id the answer carries, for logs). `actor` is the principal the request's
    credential resolved to, or None (anonymous, or not resolved yet)."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    # Read when asked, not when built: the principal dependency of the route (whichever it is — a session,
    # an API token, a notification's action token) may run after this one.
    _actor: Callable[[], Principal | None] = field(default=_nobody, repr=False, compare=False)

    @property
    def actor(self) -> Principal | None:
        return self._actor()

    @classmethod
    def of(cls, request: Request) -> AuditContext:
        state = request.state
        return cls(ip=getattr(state, "client_ip", None),
                   user_agent=request.headers.get("user-agent", "")[:USER_AGENT_MAX] or None,
                   request_id=getattr(state, "request_id", None),
                   _actor=lambda: getattr(state, "principal", None))


async def audit_context(request: Request) -> AuditContext:
    """The dependency: one `AuditContext` per request."""
    return AuditContext.of(request)


AuditCtx = Annotated[AuditContext, Depends(audit_context)]
