"""Invitations by e-mail: send (admin+), list pending, revoke, accept with the mailed token."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from xinex.identity.deps import Authorize, CurrentPrincipal
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.models.tenant import Invitation, Role
from xinex.tenants import invitations_service as invites
from xinex.tenants.members import member_out
from xinex.tenants.schemas import (
    InvitationAccept,
    InvitationAccepted,
    InvitationCreate,
    InvitationOut,
    TenantBrief,
)

router = APIRouter(prefix="/invitations", tags=["invitations"])

InviteAdmin = Annotated[Principal, Depends(Authorize("tenant", write=True, min_role=Role.admin))]
InviteReader = Annotated[Principal, Depends(Authorize("tenant", write=False, min_role=Role.admin))]


def invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(id=invitation.id, tenant_id=invitation.tenant_id, email=invitation.email,
                         role=Role(invitation.role), status=invites.status_of(invitation),
                         invited_by=invitation.invited_by, expires_at=invitation.expires_at,
                         accepted_at=invitation.accepted_at, created_at=invitation.created_at,
                         updated_at=invitation.updated_at)


@router.post("", status_code=201, response_model=InvitationOut,
             responses=error_responses(401, 403, 409, 422, 429))
async def create_invitation(data: InvitationCreate, principal: InviteAdmin, request: Request, session: SessionDep):
    """Invite someone by e-mail with a role; they get a link valid 7 days. Admins only; only an owner invites an
    owner (403). 409: already a member, or an invitation for that address is pending (revoke it to send a
    new one). Rate-limited (429)."""
    invitation = await invites.create_invitation(session, request, principal, data.email, data.role)
    return invitation_out(invitation)


@router.get("", response_model=Page[InvitationOut], responses=error_responses(401, 403, 422))
async def list_invitations(principal: InviteReader, params: PageDep, session: SessionDep):
    """Pending invitations of this tenant."""
    rows, total = await invites.list_pending(session, params)
    return Page.of([invitation_out(i) for i in rows], total, params)


@router.delete("/{invitation_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 422))
async def revoke_invitation(invitation_id: uuid.UUID, principal: InviteAdmin, request: Request, session: SessionDep):
    """Revoke a pending invitation: its link stops working. 409: it was already accepted (remove the member
    instead)."""
    await invites.revoke_invitation(session, request, principal, invitation_id)
    return Response(status_code=204)


@router.post("/accept", status_code=201, response_model=InvitationAccepted,
             responses=error_responses(400, 401, 403, 409, 422))
async def accept_invitation(data: InvitationAccept, principal: CurrentPrincipal, request: Request,
                            session: SessionDep):
    """Join a tenant with the token of an invitation e-mail, signed in as the invited address (403 otherwise). 400
    TOKEN_INVALID: invalid, expired, revoked or already used; 409: already a member."""
    membership, user, tenant = await invites.accept_invitation(session, request, principal, data.token)
    brief = TenantBrief(id=tenant.id, name=tenant.name, slug=tenant.slug, role=membership.role, tier=tenant.tier)
    return InvitationAccepted(**member_out(membership, user).model_dump(), tenant=brief)
