"""GET/POST /annotations, PUT/DELETE /annotations/{id}: deploy markers (e.g. from CI with an API
token holding telemetry:write); reads need telemetry:read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from xinex.annotations import service
from xinex.annotations.schemas import (
    ANNOTATION_TAGS_SCHEMA,
    AnnotationCreate,
    AnnotationOut,
    AnnotationUpdate,
    clean_tags,
)
from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.kit.types import NulFreeStr, UTCInstant

router = APIRouter(tags=["annotations"])
TelemetryPrincipal = Annotated[Principal, Depends(Authorize("telemetry"))]


@router.get("/annotations", response_model=Page[AnnotationOut], responses=error_responses(401, 403, 422))
async def list_annotations(principal: TelemetryPrincipal, session: SessionDep, params: PageDep,
                           since: Annotated[UTCInstant | None, Query(alias="from", description="no offset = UTC")] = None,
                           until: Annotated[UTCInstant | None, Query(alias="to", description="no offset = UTC")] = None,
                           name: Annotated[NulFreeStr | None, Query(max_length=200, description="name prefix")] = None,
                           tag: Annotated[list[str] | None, Query(description="repeat: all must match",
                                                                 json_schema_extra=ANNOTATION_TAGS_SCHEMA)] = None
                           ) -> Page[AnnotationOut]:
    """Annotations (deploys, config changes, notes) in a time range (from, to), by name prefix and tags (all must match); shown on dashboards next to
    the telemetry."""
    try:
        tags = clean_tags(tag)
    except ValueError as exc:
        raise AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {"tag": str(exc)}}) from None
    if since is not None and until is not None and until < since:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"to": "must not be before from"}})
    return await service.list_page(session, params, since, until, name, tags)


@router.post("/annotations", status_code=201, response_model=AnnotationOut, responses=error_responses(401, 403, 422))
async def create_annotation(data: AnnotationCreate, audit_ctx: AuditCtx, response: Response,
                            principal: TelemetryPrincipal, session: SessionDep) -> AnnotationOut:
    """Mark a moment (time) or a period (start, optional end) with a title, text and tags, e.g. from a deploy
    script. 422: neither time nor start given."""
    a = await service.create(session, audit_ctx, principal, data)
    set_version(response, a)
    return service.to_out(a)


@router.get("/annotations/{annotation_id}", response_model=AnnotationOut,
            responses=error_responses(401, 403, 404, 422))
async def read_annotation(annotation_id: uuid.UUID, response: Response, principal: TelemetryPrincipal,
                          session: SessionDep) -> AnnotationOut:
    """One annotation. 404: no such annotation in this tenant."""
    a = await service.get(session, annotation_id)
    set_version(response, a)
    return service.to_out(a)


@router.put("/annotations/{annotation_id}", response_model=AnnotationOut,
            responses=error_responses(401, 403, 404, 412, 422))
async def update_annotation(annotation_id: uuid.UUID, data: AnnotationUpdate, audit_ctx: AuditCtx, response: Response,
                            principal: TelemetryPrincipal, session: SessionDep, if_match: IfMatch) -> AnnotationOut:
    """Change an annotation; fields left out stay. If-Match guards against lost updates (412)."""
    a = await service.update(session, audit_ctx, principal, annotation_id, data, if_match)
    set_version(response, a)
    return service.to_out(a)


@router.delete("/annotations/{annotation_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_annotation(annotation_id: uuid.UUID, audit_ctx: AuditCtx, principal: TelemetryPrincipal,
                            session: SessionDep, if_match: IfMatch) -> Response:
    """Delete an annotation. If-Match guards (412)."""
    await service.delete(session, audit_ctx, principal, annotation_id, if_match)
    return Response(status_code=204)
