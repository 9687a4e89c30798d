"""Tenants the caller belongs to, creating one, switching the active one."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, update

from xinex.audit import service as audit
from xinex.auth.deps import CurrentPrincipal
from xinex.auth.schemas import TenantBrief
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.models.identity import User, UserSession
from xinex.models.tenant import Membership, Tenant
from xinex.tenants.provisioning import create_tenant_with_owner

router = APIRouter(prefix="/tenants", tags=["tenants"])


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tenant_id: uuid.UUID


async def _my_tenants(session, user_id: uuid.UUID) -> list[TenantBrief]:
    rows = (await session.execute(
        select(Tenant, Membership.role).join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user_id).order_by(Tenant.name)
    )).all()
    return [TenantBrief(id=t.id, name=t.name, slug=t.slug, role=role, tier=t.tier) for t, role in rows]


@router.get("", response_model=Page[TenantBrief], responses=error_responses(401))
async def list_my_tenants(principal: CurrentPrincipal, params: PageDep, session: SessionDep):
    items = await _my_tenants(session, principal.user_id)
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params)


@router.post("", status_code=201, response_model=TenantBrief, responses=error_responses(401, 403, 422))
async def create_tenant(data: TenantCreate, principal: CurrentPrincipal, request: Request, session: SessionDep):
    if principal.kind != "session" and principal.kind != "jwt":
        raise AppError("FORBIDDEN", "Tenants are created by a signed-in user, not by an API token")
    user = await session.get(User, principal.user_id)
    tenant = await create_tenant_with_owner(session, user, data.name)
    audit.record(session, "tenant.created", request=request, principal=principal, tenant_id=tenant.id,
                 target_type="tenant", target_id=tenant.id)
    return TenantBrief(id=tenant.id, name=tenant.name, slug=tenant.slug, role="owner", tier=tenant.tier)


@router.post("/switch", response_model=TenantBrief, responses=error_responses(401, 403, 404, 422))
async def switch_tenant(data: SwitchIn, principal: CurrentPrincipal, request: Request, session: SessionDep):
    if principal.kind != "session":
        raise AppError("FORBIDDEN", "Only a browser or app session switches tenants; tokens are bound to one")
    mine = {t.id: t for t in await _my_tenants(session, principal.user_id)}
    if data.tenant_id not in mine:
        raise AppError("NOT_FOUND", "tenant not found")
    await session.execute(update(UserSession).where(UserSession.id == principal.credential_id)
                          .values(active_tenant_id=data.tenant_id))
    audit.record(session, "tenant.switched", request=request, principal=principal, tenant_id=data.tenant_id,
                 target_type="tenant", target_id=data.tenant_id)
    return mine[data.tenant_id]
