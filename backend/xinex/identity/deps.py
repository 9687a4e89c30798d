"""Typed auth dependencies: `CurrentPrincipal`, `CachedPrincipal`, `TenantPrincipal`, `Authorize(area)`.

Routers declare what they need once (e.g. `Annotated[Principal, Depends(Authorize("monitors"))]`);
reads need `<area>:read`, mutations `<area>:write` and a role above viewer.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from xinex.identity.credentials import cached_api_token_principal, resolve_principal
from xinex.identity.principal import Principal
from xinex.kit.db import Database, SessionDep
from xinex.kit.errors import AppError
from xinex.models.tenant import Role

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def current_principal(request: Request, session: SessionDep) -> Principal:
    principal = await resolve_principal(session, request)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def cached_principal(request: Request) -> Principal:
    """The caller, for read endpoints served from in-process caches: no database session is opened
    when the credential cache can answer; otherwise one short unit of work resolves (and touches)
    the credential exactly as `current_principal` does. The endpoint opens its own session if it
    needs one, bound to `principal.tenant_id`."""
    principal = cached_api_token_principal(request)
    if principal is None:
        db: Database = request.app.state.db
        async with db.session() as session:
            principal = await resolve_principal(session, request)
    request.state.principal = principal
    return principal


CachedPrincipal = Annotated[Principal, Depends(cached_principal)]


def no_active_tenant(principal: Principal) -> AppError:
    if principal.extra.get("sso_required_for"):
        return AppError("SSO_REQUIRED", "The active tenant requires single sign-on: sign in through "
                        "/api/v1/sso/login, or switch to another tenant")
    return AppError("FORBIDDEN", "No active tenant: join or create one, or switch to one")


async def tenant_principal(principal: CurrentPrincipal) -> Principal:
    if principal.tenant_id is None:
        raise no_active_tenant(principal)
    return principal


TenantPrincipal = Annotated[Principal, Depends(tenant_principal)]


def require_scope(principal: Principal, area: str, *, write: bool) -> None:
    """For endpoints outside a tenant area, e.g. the caller's own sessions (`account`)."""
    if not principal.allows(area, write):
        raise AppError("FORBIDDEN", f"This credential lacks the {area}:{'write' if write else 'read'} scope",
                       details={"required_scope": f"{area}:{'write' if write else 'read'}"})


class Authorize:
    """Scope and role check for one area; `write` defaults to 'is this a mutating method'."""

    def __init__(self, area: str, *, write: bool | None = None, min_role: Role | None = None) -> None:
        self.area = area
        self.write = write
        self.min_role = min_role

    async def __call__(self, request: Request, principal: TenantPrincipal) -> Principal:
        write = self.write if self.write is not None else request.method in WRITE_METHODS
        if not principal.allows(self.area, write):
            scope = f"{self.area}:{'write' if write else 'read'}"
            # As require_scope: the details name what was missing (docs/security.md).
            raise AppError("FORBIDDEN", f"This token lacks the {scope} scope", details={"required_scope": scope})
        needed = self.min_role or (Role.member if write else Role.viewer)
        if not principal.has_role(needed):
            raise AppError("FORBIDDEN", f"Requires the {needed.value} role or higher")
        return principal


class AuthorizeOrActionToken:
    """`Authorize(area)` for a mutation that a notification's action token may also perform
    (identity/action_tokens.py): a bearer `xpa_…` token is spent on this very object (the route's
    `id_param` path parameter) and action; any other credential goes the usual way."""

    def __init__(self, area: str, action: str, id_param: str) -> None:
        self.authorize = Authorize(area, write=True)
        self.action = action
        self.id_param = id_param

    async def __call__(self, request: Request, session: SessionDep) -> Principal:
        from xinex.identity import action_tokens

        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and action_tokens.looks_like_action_token(value.strip()):
            try:
                subject = uuid.UUID(str(request.path_params[self.id_param]))
            except ValueError:
                raise action_tokens.invalid(f"This action token is not for {self.action} on this object") from None
            principal = await action_tokens.spend(session, value.strip(), incident_id=subject, action=self.action)
            request.state.principal = principal
            return principal
        return await self.authorize(request, await tenant_principal(await current_principal(request, session)))
