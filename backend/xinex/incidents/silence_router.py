"""/silence: silence rules suppress paging but keep the record (maintenance windows: xinex.maintenance)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.incidents.schemas import SilenceIn, SilenceOut
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.incidents import SilenceRule

router = APIRouter(tags=["incidents"])
IncidentsPrincipal = Annotated[Principal, Depends(Authorize("incidents"))]


async def _get(session, model, object_id: uuid.UUID, what: str):
    obj = (await session.execute(select(model).where(model.id == object_id))).scalar_one_or_none()
    if obj is None:
        raise AppError("NOT_FOUND", f"{what} not found")
    return obj


def _silence_out(rule: SilenceRule) -> SilenceOut:
    now = utcnow()
    return SilenceOut.model_validate({**rule.model_dump(), "active": rule.starts_at <= now < rule.ends_at})



@router.get("/silence", response_model=Page[SilenceOut], responses=error_responses(401, 403, 422))
async def list_silences(principal: IncidentsPrincipal, session: SessionDep, params: PageDep,
                        active: bool | None = None):
    """Silences, newest first; active=true for those in force now, false for past and future ones."""
    stmt = select(SilenceRule)
    if active is not None:
        now = utcnow()
        stmt = stmt.where(SilenceRule.starts_at <= now, SilenceRule.ends_at > now) if active else stmt.where(
            (SilenceRule.starts_at > now) | (SilenceRule.ends_at <= now))
    items, total = await paginate(session, stmt.order_by(SilenceRule.starts_at.desc(), SilenceRule.id), params)
    return Page.of([_silence_out(r) for r in items], total, params)


@router.post("/silence", status_code=201, response_model=SilenceOut, responses=error_responses(401, 403, 422))
async def create_silence(data: SilenceIn, request: Request, response: Response, principal: IncidentsPrincipal,
                         session: SessionDep):
    """Silence pages for matching alerts (by source, severities, tags, host, service, project) from starts_at (default now) until ends_at:
    alerts still open incidents, but nobody is paged. 422: no matcher, or ends_at not after the start."""
    starts_at = data.starts_at or utcnow()
    if data.ends_at <= starts_at:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"ends_at": "must be in the future"}})
    values = data.model_dump(exclude={"starts_at"})
    rule = SilenceRule(**values, starts_at=starts_at, created_by=principal.user_id)
    session.add(rule)
    await session.flush()
    audit.record(session, "silence.created", request=request, principal=principal, target_type="silence",
                 target_id=rule.id, details={"name": rule.name})
    set_version(response, rule)
    return _silence_out(rule)


@router.get("/silence/{silence_id}", response_model=SilenceOut, responses=error_responses(401, 403, 404, 422))
async def read_silence(silence_id: uuid.UUID, response: Response, principal: IncidentsPrincipal, session: SessionDep):
    """One silence. 404: no such silence in this tenant."""
    rule = await _get(session, SilenceRule, silence_id, "silence")
    set_version(response, rule)
    return _silence_out(rule)


@router.delete("/silence/{silence_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_silence(silence_id: uuid.UUID, request: Request, principal: IncidentsPrincipal, session: SessionDep):
    """End a silence early by deleting it; pages resume for new alerts."""
    rule = await _get(session, SilenceRule, silence_id, "silence")
    await session.delete(rule)
    audit.record(session, "silence.deleted", request=request, principal=principal, target_type="silence",
                 target_id=rule.id, details={"name": rule.name})
    return Response(status_code=204)
