"""403 authorization failures in the tenant's audit log: who tried what, on which route.

Recorded when the credential resolved to a tenant (the log is tenant-scoped), and for SSO_REQUIRED
in the SSO-enforcing tenant a session from elsewhere tried to act in; a refusal before that — no
credential, a bad CSRF header — has no tenant to tell. To keep a scripted loop from
flooding the log, one denial per (credential, method, route) is recorded per minute, and at most
`rate_limit_audit_denials` per tenant; the counters live in the rate limiter's store (Redis when
configured), so replicas share them. Recording never changes the answer: any failure is logged and
the 403 goes out as usual.
"""

from __future__ import annotations

import logging

from fastapi import Request

from xinex.audit import service as audit
from xinex.kit.errors import AppError

log = logging.getLogger("xinex.audit.denials")

ACTION = "authz.denied"
DEDUP_WINDOW = "1/minute"


def _route_template(request: Request) -> str:
    """`/api/v1/api-tokens/{token_id}`, not the path with its ids (the path goes in details)."""
    route = getattr(request.scope.get("route"), "path_format", None)
    path = request.url.path
    if route is None:
        return path
    # Routes of the API router do not carry its /api/v1 prefix: put back whatever precedes the route.
    try:
        rendered = route.format(**{k: str(v) for k, v in request.path_params.items()})
    except (KeyError, IndexError, ValueError):
        return route
    return path[: len(path) - len(rendered)] + route if path.endswith(rendered) else route


def _denied_tenant(principal, exc: AppError):
    """The tenant whose log gets the denial, or None."""
    if principal is None:
        return None
    if exc.code == "FORBIDDEN":
        return principal.tenant_id
    if exc.code == "SSO_REQUIRED":  # a session from elsewhere tried to act in an SSO-enforcing tenant
        return principal.extra.get("sso_required_for")
    return None


async def record_denial(request: Request, exc: AppError) -> None:
    principal = getattr(request.state, "principal", None)
    tenant_id = _denied_tenant(principal, exc)
    if tenant_id is None:
        return
    route = _route_template(request)
    method = request.method
    try:
        limiter = request.app.state.limiter
        first = await limiter.hit(DEDUP_WINDOW, "audit-denied", str(tenant_id),
                                  str(principal.credential_id), method, route)
        if not first.allowed:
            return
        budget = await limiter.hit(request.app.state.settings.rate_limit_audit_denials, "audit-denied-tenant",
                                   str(tenant_id))
        if not budget.allowed:
            return
        async with request.app.state.db.session(tenant_id=tenant_id) as session:
            audit.record(session, ACTION, request=request, principal=principal, tenant_id=tenant_id,
                         target_type="route", target_id=f"{method} {route}"[:80], outcome="failure",
                         details={"method": method, "route": route[:300], "path": request.url.path[:300],
                                  "error_code": exc.code, "reason": exc.message[:300],
                                  "scopes": sorted(principal.scopes or [])[:50]})
    except Exception:  # the store or the database is down: the 403 still goes out
        log.warning("could not record a 403 in the audit log", exc_info=True)
