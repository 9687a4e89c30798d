"""HTTP of the tenants domain: /tenants (the caller's tenants, creating, switching, managing the active
one), /members (roles, removal, leaving) and /invitations (send, list, revoke, accept).

`router` carries the three, so the mount names one router.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize, CurrentPrincipal
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr
from xinex.models.identity import User
from xinex.models.tenant import Invitation, Membership, Role, Tenant
from xinex.tenants import service
from xinex.tenants.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationOut,
    MemberOut,
    MemberUpdate,
    TenantBrief,
    TenantOut,
    TenantUpdate,
)
from xinex.tenants.versioning import not_modified, require_match, tag_for

tenants = APIRouter(prefix="/tenants", tags=["tenants"])
members = APIRouter(prefix="/members", tags=["members"])
invitations = APIRouter(prefix="/invitations", tags=["invitations"])

TenantReader = Annotated[Principal, Depends(Authorize("tenant", write=False))]
TenantAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
TenantOwner = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.owner))]
MemberReader = Annotated[Principal, Depends(Authorize("tenant", write=False))]
MemberAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
# Anyone may leave; removing someone else is checked in the service (admin+).
MemberWriter = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.viewer))]
InviteAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
InviteReader = Annotated[Principal, Depends(Authorize("tenant", write=False, min_role=Role.admin))]


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Staging"}]})
    name: NulFreeStr = Field(min_length=1, max_length=200)


class SwitchIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tenant_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f"},
    ]})
    tenant_id: uuid.UUID


# -- /tenants ------------------------------------------------------------------------------------

async def _tenant_out(session: SessionDep, tenant: Tenant, principal: Principal) -> TenantOut:
    assert principal.role is not None  # Authorize: a role in the active tenant
    return TenantOut(id=tenant.id, name=tenant.name, slug=tenant.slug, tier=tenant.tier,
                     sso_enforced=tenant.sso_enforced, role=principal.role.value,
                     member_count=await service.member_count(session, tenant.id),
                     created_at=tenant.created_at, updated_at=tenant.updated_at)


def _tenant_tag(out: TenantOut) -> str:
    # The representation mixes the tenant row, the caller's role and a count: tag all of it.
    return tag_for(out.id, out.name, out.updated_at, out.tier, out.sso_enforced, out.role, out.member_count)


@tenants.get("", response_model=Page[TenantBrief], responses=error_responses(401, 422))
async def list_my_tenants(principal: CurrentPrincipal, params: PageDep, session: SessionDep) -> Page[TenantBrief]:
    """The tenants you belong to, with your role and plan in each."""
    items = await service.my_tenants(session, principal.user_id)
    return Page.of(items[params.offset: params.offset + params.per_page], len(items), params)


@tenants.post("", status_code=201, response_model=TenantBrief, responses=error_responses(401, 403, 422))
async def create_tenant(data: TenantCreate, principal: CurrentPrincipal, audit_ctx: AuditCtx, session: SessionDep) -> TenantBrief:
    """Create a tenant with you as its owner (a signed-in user, not an API token: 403). Switch to it with POST
    /tenants/switch."""
    return await service.create_tenant(session, audit_ctx, principal, data.name)


@tenants.post("/switch", response_model=TenantBrief, responses=error_responses(401, 403, 404, 422))
async def switch_tenant(data: SwitchIn, principal: CurrentPrincipal, audit_ctx: AuditCtx, session: SessionDep) -> TenantBrief:
    """Make another of your tenants the active one for this browser or app session (API tokens are bound to one
    tenant: 403). 404: not a tenant of yours; 403 SSO_REQUIRED: it requires single sign-on."""
    return await service.switch_tenant(session, audit_ctx, principal, data.tenant_id)


@tenants.get("/current", response_model=TenantOut, responses=error_responses(401, 403))
async def get_current(principal: TenantReader, request: Request, response: Response, session: SessionDep) -> TenantOut | Response:
    """The active tenant: name, slug, plan, SSO enforcement, your role and the member count. Its ETag is the
    version for If-Match on PUT; If-None-Match answers 304 when unchanged."""
    assert principal.tenant_id is not None  # Authorize: an active tenant
    out = await _tenant_out(session, await service.get_tenant(session, principal.tenant_id), principal)
    if cached := not_modified(request, response, _tenant_tag(out)):
        return cached
    return out


@tenants.put("/current", response_model=TenantOut, responses=error_responses(401, 403, 412, 422))
async def update_current(data: TenantUpdate, principal: TenantAdmin, request: Request, audit_ctx: AuditCtx, response: Response,
                         session: SessionDep) -> TenantOut:
    """Rename the active tenant. Admins only; If-Match guards against lost updates (412)."""
    assert principal.tenant_id is not None  # Authorize: an active tenant
    tenant = await service.get_tenant(session, principal.tenant_id)
    require_match(request, _tenant_tag(await _tenant_out(session, tenant, principal)))
    tenant = await service.rename_tenant(session, audit_ctx, principal, tenant, data.name)
    out = await _tenant_out(session, tenant, principal)
    response.headers["ETag"] = _tenant_tag(out)
    return out


@tenants.delete("/current", status_code=204, responses=error_responses(401, 403, 409, 422))
async def delete_current(principal: TenantOwner, audit_ctx: AuditCtx, session: SessionDep,
                         confirm: Annotated[str, Query(min_length=1, max_length=80,
                                                       description="The tenant's slug, to confirm")]) -> Response:
    """Delete the active tenant and everything in it. Owners only; `confirm` must be the tenant's slug (422
    otherwise). 409: it is your only tenant."""
    await service.delete_tenant(session, audit_ctx, principal, confirm)
    return Response(status_code=204)


# -- /members ------------------------------------------------------------------------------------

def member_tag(membership: Membership, user: User) -> str:
    return tag_for(membership.id, membership.updated_at, membership.role, user.email, user.name)


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(id=membership.id, tenant_id=membership.tenant_id, user_id=user.id, email=user.email,
                     name=user.name, role=Role(membership.role), created_at=membership.created_at,
                     updated_at=membership.updated_at)


@members.get("", response_model=Page[MemberOut], responses=error_responses(401, 403, 422))
async def list_members(principal: MemberReader, params: PageDep, session: SessionDep,
                       role: Annotated[Role | None, Query()] = None) -> Page[MemberOut]:
    """The tenant's members with their role, filtered by role."""
    rows, total = await service.list_members(session, params, role)
    return Page.of([member_out(m, u) for m, u in rows], total, params)


@members.get("/{user_id}", response_model=MemberOut, responses=error_responses(401, 403, 404, 422))
async def get_member(user_id: uuid.UUID, principal: MemberReader, request: Request, response: Response,
                     session: SessionDep) -> MemberOut | Response:
    """One member. 404: not a member of this tenant."""
    membership, user = await service.get_member(session, user_id)
    if cached := not_modified(request, response, member_tag(membership, user)):
        return cached
    return member_out(membership, user)


@members.put("/{user_id}", response_model=MemberOut, responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_member(user_id: uuid.UUID, data: MemberUpdate, principal: MemberAdmin, request: Request, audit_ctx: AuditCtx,
                        response: Response, session: SessionDep) -> MemberOut:
    """Change a member's role. Admins only; only an owner grants or revokes owner (403); 409: the tenant would be
    left without an owner. If-Match guards against lost updates (412)."""
    membership, user = await service.get_member(session, user_id)
    require_match(request, member_tag(membership, user))
    membership, user = await service.change_role(session, audit_ctx, principal, user_id, data.role)
    response.headers["ETag"] = member_tag(membership, user)
    return member_out(membership, user)


@members.delete("/{user_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def remove_member(user_id: uuid.UUID, principal: MemberWriter, audit_ctx: AuditCtx, session: SessionDep) -> Response:
    """Remove a member, or leave the tenant (your own user id). Removing others needs admin, removing an owner
    needs owner (403); 409: the last owner cannot go."""
    await service.remove_member(session, audit_ctx, principal, user_id)
    return Response(status_code=204)


# -- /invitations --------------------------------------------------------------------------------

def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(id=invitation.id, tenant_id=invitation.tenant_id, email=invitation.email,
                         role=Role(invitation.role), status=service.status_of(invitation),
                         invited_by=invitation.invited_by, expires_at=invitation.expires_at,
                         accepted_at=invitation.accepted_at, created_at=invitation.created_at,
                         updated_at=invitation.updated_at)


@invitations.post("", status_code=201, response_model=InvitationOut,
                  responses=error_responses(401, 403, 409, 422, 429))
async def create_invitation(data: InvitationCreate, principal: InviteAdmin, request: Request, session: SessionDep) -> InvitationOut:
    """Invite someone by e-mail with a role; they get a link valid 7 days. Admins only; only an owner invites an
    owner (403). 409: already a member, or an invitation for that address is pending (revoke it to send a
    new one). Rate-limited (429)."""
    invitation = await service.create_invitation(session, request, principal, data.email, data.role)
    return invitation_out(invitation)


@invitations.get("", response_model=Page[InvitationOut], responses=error_responses(401, 403, 422))
async def list_invitations(principal: InviteReader, params: PageDep, session: SessionDep) -> Page[InvitationOut]:
    """Pending invitations of this tenant."""
    rows, total = await service.list_pending(session, params)
    return Page.of([invitation_out(i) for i in rows], total, params)


@invitations.delete("/{invitation_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def revoke_invitation(invitation_id: uuid.UUID, principal: InviteAdmin, audit_ctx: AuditCtx, session: SessionDep) -> Response:
    """Revoke a pending invitation: its link stops working. 409: it was already accepted (remove the member
    instead)."""
    await service.revoke_invitation(session, audit_ctx, principal, invitation_id)
    return Response(status_code=204)


@invitations.post("/accept", status_code=201, response_model=InvitationAccepted,
                  responses=error_responses(400, 401, 403, 409, 422))
async def accept_invitation(data: InvitationAccept, principal: CurrentPrincipal, audit_ctx: AuditCtx,
                            session: SessionDep) -> InvitationAccepted:
    """Join a tenant with the token of an invitation e-mail, signed in as the invited address (403 otherwise). 400
    TOKEN_INVALID: invalid, expired, revoked or already used; 409: already a member."""
    membership, user, tenant = await service.accept_invitation(session, audit_ctx, principal, data.token)
    return InvitationAccepted(**member_out(membership, user).model_dump(), tenant=service.brief(tenant, membership.role))


router = APIRouter()
router.include_router(tenants)
router.include_router(members)
router.include_router(invitations)
