"""/account/export, /onboarding and /public/brand-settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from xinex.account import service
from xinex.account.schemas import BrandOut, ExportOut, OnboardingOut
from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.models.tenant import Role
from xinex.timeseries.store import TimeSeriesStore, get_store

router = APIRouter(tags=["account"])

# Everything the tenant owns leaves in an export: owners and admins only.
Exporter = Annotated[Principal, Depends(Authorize("tenant", write=False, min_role=Role.admin))]
OnboardingReader = Annotated[Principal, Depends(Authorize("tenant", write=False))]
OnboardingWriter = Annotated[Principal, Depends(Authorize("tenant", write=True))]


def _store(request: Request) -> TimeSeriesStore | None:
    store: TimeSeriesStore | None = getattr(request.app.state, "telemetry_store", None)
    return store or get_store()


@router.get("/account/export", status_code=202, response_model=ExportOut, responses=error_responses(401, 403))
async def request_export(principal: Exporter, audit_ctx: AuditCtx, session: SessionDep) -> ExportOut:
    """Start an export of everything the tenant owns (owners and admins): a zip with one JSON file per
    domain, the tenant and its members, credentials left out (hashes, secrets, tokens, keys, authorization
    headers, chat-webhook URLs). Answers 202 with `status_url`; when ready, `download_url` is a link signed
    for the requester, valid 24 hours. Audited."""
    return await service.request_export(session, audit_ctx, principal)


@router.get("/account/exports/{export_id}", response_model=ExportOut, responses=error_responses(401, 403, 404, 422))
async def export_status(export_id: uuid.UUID, principal: Exporter, session: SessionDep) -> ExportOut:
    """An export's status (pending, running, ready, failed) and, once ready, its signed download link. Only
    the member who asked for it sees it (404 for anyone else)."""
    return await service.export_status(session, principal, export_id)


@router.get("/account/exports/{export_id}/download", response_class=Response,
            responses={200: {"content": {"application/zip": {}}, "description": "The zip"},
                       **error_responses(401, 403, 404, 422)})
async def download_export(export_id: uuid.UUID, principal: Exporter, audit_ctx: AuditCtx, session: SessionDep,
                          expires: Annotated[int, Query(ge=0, le=2**40)],
                          signature: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")]) -> Response:
    """Download a ready export through its signed link, as the requester (403 for a link that does not verify,
    404 once expired or for anyone else). Audited."""
    name, content = await service.download(session, audit_ctx, principal, export_id, expires, signature)
    return Response(content, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/onboarding", response_model=OnboardingOut, responses=error_responses(401, 403))
async def get_onboarding(principal: OnboardingReader, request: Request, session: SessionDep) -> OnboardingOut:
    """The onboarding steps: done when the tenant's state shows it (a monitor or heartbeat, a notification
    channel, a teammate invited, a first alert, telemetry received) or when marked done by hand."""
    assert principal.tenant_id is not None
    return await service.onboarding(session, principal.tenant_id, _store(request))


@router.post("/onboarding/{step}/complete", response_model=OnboardingOut, responses=error_responses(401, 403, 404))
async def complete_onboarding_step(step: str, principal: OnboardingWriter, request: Request,
                                   audit_ctx: AuditCtx,
                                   session: SessionDep) -> OnboardingOut:
    """Mark a step done by hand (e.g. skipped); idempotent. 404 for a step that does not exist."""
    return await service.complete_step(session, audit_ctx, principal, step, _store(request))


public_router = APIRouter(tags=["account"])


@public_router.get("/public/brand-settings", response_model=BrandOut)
async def brand_settings() -> BrandOut:
    """The operator's brand for the web app and e-mails: name, logo URL, colours, support e-mail
    (XINEX_BRAND_* settings). No credential needed."""
    return service.brand()
