"""GET /members, PUT /members/{user_id} (role), DELETE /members/{user_id} (remove or leave)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.models.identity import User
from xinex.models.tenant import Membership, Role
from xinex.tenants import service
from xinex.tenants.schemas import MemberOut, MemberUpdate
from xinex.tenants.versioning import not_modified, require_match, tag_for

router = APIRouter(prefix="/members", tags=["members"])

MemberReader = Annotated[Principal, Depends(Authorize("tenant", write=False))]
MemberAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
# Anyone may leave; removing someone else is checked in the service (admin+).
MemberWriter = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.viewer))]


def member_tag(membership: Membership, user: User) -> str:
    return tag_for(membership.id, membership.updated_at, membership.role, user.email, user.name)


def member_out(membership: Membership, user: User) -> MemberOut:
    return MemberOut(id=membership.id, tenant_id=membership.tenant_id, user_id=user.id, email=user.email,
                     name=user.name, role=Role(membership.role), created_at=membership.created_at,
                     updated_at=membership.updated_at)


@router.get("", response_model=Page[MemberOut], responses=error_responses(401, 403, 422))
async def list_members(principal: MemberReader, params: PageDep, session: SessionDep,
                       role: Annotated[Role | None, Query()] = None):
    """The tenant's members with their role, filtered by role."""
    rows, total = await service.list_members(session, principal.tenant_id, params, role)
    return Page.of([member_out(m, u) for m, u in rows], total, params)


@router.get("/{user_id}", response_model=MemberOut, responses=error_responses(401, 403, 404, 422))
async def get_member(user_id: uuid.UUID, principal: MemberReader, request: Request, response: Response,
                     session: SessionDep):
    """One member. 404: not a member of this tenant."""
    membership, user = await service.get_member(session, principal.tenant_id, user_id)
    if cached := not_modified(request, response, member_tag(membership, user)):
        return cached
    return member_out(membership, user)


@router.put("/{user_id}", response_model=MemberOut, responses=error_responses(401, 403, 404, 409, 412, 422))
async def update_member(user_id: uuid.UUID, data: MemberUpdate, principal: MemberAdmin, request: Request,
                        response: Response, session: SessionDep):
    """Change a member's role. Admins only; only an owner grants or revokes owner (403); 409: the tenant would be
    left without an owner. If-Match guards against lost updates (412)."""
    membership, user = await service.get_member(session, principal.tenant_id, user_id)
    require_match(request, member_tag(membership, user))
    membership, user = await service.change_role(session, request, principal, user_id, data.role)
    response.headers["ETag"] = member_tag(membership, user)
    return member_out(membership, user)


@router.delete("/{user_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def remove_member(user_id: uuid.UUID, principal: MemberWriter, request: Request, session: SessionDep):
    """Remove a member, or leave the tenant (your own user id). Removing others needs admin, removing an owner
    needs owner (403); 409: the last owner cannot go."""
    await service.remove_member(session, request, principal, user_id)
    return Response(status_code=204)
