"""Tenants the caller belongs to, creating one, switching the active one, managing the current one.

`router` also carries the members and invitations routers, so routes.py mounts this one name.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from xinex.audit import service as audit
from xinex.identity.credentials import sso_blocks_session
from xinex.identity.deps import Authorize, CurrentPrincipal
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr
from xinex.models.identity import User, UserSession
from xinex.models.tenant import Membership, Role, Tenant
from xinex.tenants import service
from xinex.tenants.invitations import router as invitations_router
from xinex.tenants.members import router as members_router
from xinex.tenants.provisioning import create_tenant_with_owner
from xinex.tenants.schemas import TenantBrief, TenantOut, TenantUpdate
from xinex.tenants.versioning import not_modified, require_match, tag_for

tenants = APIRouter(prefix="/tenants", tags=["tenants"])

TenantReader = Annotated[Principal, Depends(Authorize("tenant", write=False))]
TenantAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
TenantOwner = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.owner))]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Staging"}]})
    name: NulFreeStr = Field(min_length=1, max_length=200)


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tenant_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f"},
    ]})
    tenant_id: uuid.UUID


async def _my_tenants(session, user_id: uuid.UUID) -> list[TenantBrief]:
    rows = (await session.execute(
        select(Tenant, Membership.role).join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user_id).order_by(Tenant.name, Tenant.id)
    )).all()
    return [TenantBrief(id=t.id, name=t.name, slug=t.slug, role=role, tier=t.tier) for t, role in rows]


async def _tenant_out(session, tenant: Tenant, principal: Principal) -> TenantOut:
    return TenantOut(id=tenant.id, name=tenant.name, slug=tenant.slug, tier=tenant.tier,
                     sso_enforced=tenant.sso_enforced, role=principal.role.value,
                     member_count=await service.member_count(session, tenant.id),
                     created_at=tenant.created_at, updated_at=tenant.updated_at)


def _tenant_tag(out: TenantOut) -> str:
    # The representation mixes the tenant row, the caller's role and a count: tag all of it.
    return tag_for(out.id, out.name, out.updated_at, out.tier, out.sso_enforced, out.role, out.member_count)


@tenants.get("", response_model=Page[TenantBrief], responses=error_responses(401, 422))
async def list_my_tenants(principal: CurrentPrincipal, params: PageDep, session: SessionDep):
    """The tenants you belong to, with your role and plan in each."""
    items = await _my_tenants(session, principal.user_id)
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params)


@tenants.post("", status_code=201, response_model=TenantBrief, responses=error_responses(401, 403, 422))
async def create_tenant(data: TenantCreate, principal: CurrentPrincipal, request: Request, session: SessionDep):
    """Create a tenant with you as its owner (a signed-in user, not an API token: 403). Switch to it with POST
    /tenants/switch."""
    service.require_interactive(principal, "Creating a tenant")
    user = await session.get(User, principal.user_id)
    tenant = await create_tenant_with_owner(session, user, data.name)
    audit.record(session, "tenant.created", request=request, principal=principal, tenant_id=tenant.id,
                 target_type="tenant", target_id=tenant.id)
    return TenantBrief(id=tenant.id, name=tenant.name, slug=tenant.slug, role="owner", tier=tenant.tier)


@tenants.post("/switch", response_model=TenantBrief, responses=error_responses(401, 403, 404, 422))
async def switch_tenant(data: SwitchIn, principal: CurrentPrincipal, request: Request, session: SessionDep):
    """Make another of your tenants the active one for this browser or app session (API tokens are bound to one
    tenant: 403). 404: not a tenant of yours; 403 SSO_REQUIRED: it requires single sign-on."""
    if principal.kind != "session":
        raise AppError("FORBIDDEN", "Only a browser or app session switches tenants; tokens are bound to one")
    mine = {t.id: t for t in await _my_tenants(session, principal.user_id)}
    if data.tenant_id not in mine:
        raise AppError("NOT_FOUND", "tenant not found")
    if await sso_blocks_session(session, principal.extra.get("sso_tenant_id"), data.tenant_id):
        raise AppError("SSO_REQUIRED", "This tenant requires single sign-on: sign in through /api/v1/sso/login")
    await session.execute(update(UserSession).where(UserSession.id == principal.credential_id)
                          .values(active_tenant_id=data.tenant_id))
    audit.record(session, "tenant.switched", request=request, principal=principal, tenant_id=data.tenant_id,
                 target_type="tenant", target_id=data.tenant_id)
    return mine[data.tenant_id]


@tenants.get("/current", response_model=TenantOut, responses=error_responses(401, 403))
async def get_current(principal: TenantReader, request: Request, response: Response, session: SessionDep):
    """The active tenant: name, slug, plan, SSO enforcement, your role and the member count. Its ETag is the
    version for If-Match on PUT; If-None-Match answers 304 when unchanged."""
    out = await _tenant_out(session, await service.get_tenant(session, principal.tenant_id), principal)
    if cached := not_modified(request, response, _tenant_tag(out)):
        return cached
    return out


@tenants.put("/current", response_model=TenantOut, responses=error_responses(401, 403, 412, 422))
async def update_current(data: TenantUpdate, principal: TenantAdmin, request: Request, response: Response,
                         session: SessionDep):
    """Rename the active tenant. Admins only; If-Match guards against lost updates (412)."""
    tenant = await service.get_tenant(session, principal.tenant_id)
    require_match(request, _tenant_tag(await _tenant_out(session, tenant, principal)))
    tenant = await service.rename_tenant(session, request, principal, tenant, data.name)
    out = await _tenant_out(session, tenant, principal)
    response.headers["ETag"] = _tenant_tag(out)
    return out


@tenants.delete("/current", status_code=204, responses=error_responses(401, 403, 409, 422))
async def delete_current(principal: TenantOwner, request: Request, session: SessionDep,
                         confirm: Annotated[str, Query(min_length=1, max_length=80,
                                                       description="The tenant's slug, to confirm")]):
    """Delete the active tenant and everything in it. Owners only; `confirm` must be the tenant's slug (422
    otherwise). 409: it is your only tenant."""
    await service.delete_tenant(session, request, principal, confirm)
    return Response(status_code=204)


router = APIRouter()
router.include_router(tenants)
router.include_router(members_router)
router.include_router(invitations_router)
