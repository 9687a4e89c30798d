"""/push-tokens: the caller's devices that pages go to (docs/mobile.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.pagination import Page, PageDep
from xinex.models.tenant import Role
from xinex.push import service
from xinex.push.schemas import PushTokenIn, PushTokenOut

router = APIRouter(tags=["push"])
# Any member, viewers included, may be paged: registering one's own phone is not a write to the tenant's setup.
Reader = Annotated[Principal, Depends(Authorize("notifications", write=False))]
Writer = Annotated[Principal, Depends(Authorize("notifications", write=True, min_role=Role.viewer))]


@router.get("/push-tokens", response_model=Page[PushTokenOut], responses=error_responses(401, 403, 422))
async def list_push_tokens(principal: Reader, session: SessionDep, params: PageDep) -> Page[PushTokenOut]:
    """Your devices registered for push in this tenant, most recently registered first. A device registered by
    a mobile sign-in disappears when that sign-in is revoked (sign-out, POST /oauth/revoke)."""
    return await service.tokens_page(session, principal, params)


@router.post("/push-tokens", response_model=PushTokenOut, status_code=201,
             responses=error_responses(401, 403, 422))
async def register_push_token(data: PushTokenIn, audit_ctx: AuditCtx, response: Response, principal: Writer,
                              session: SessionDep) -> PushTokenOut:
    """Register this device for push: 201 when new. Idempotent: the same token again updates it (200) — and
    moves it to you if someone else registered it before (the phone changed hands). Registered with a mobile
    JWT, it belongs to that sign-in and is unregistered when the sign-in is revoked."""
    row, created = await service.register(session, principal, data, audit_ctx=audit_ctx)
    if not created:
        response.status_code = 200
    return service.token_out(row)


@router.delete("/push-tokens/{token}", status_code=204, response_class=Response,
               responses=error_responses(401, 403, 404))
async def unregister_push_token(token: Annotated[str, Path(min_length=1, max_length=1024)], audit_ctx: AuditCtx,
                                principal: Writer, session: SessionDep) -> Response:
    """Unregister one of your devices. 404: no such token of yours (another user's token is not yours to
    remove)."""
    await service.unregister(session, principal, token, audit_ctx=audit_ctx)
    return Response(status_code=204)
