"""Annotation use cases: create, change and delete (with their audit records), the time normalisation,
the filtered list and the overlay drawn over a /dsl result."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.annotations.repository import AnnotationRepository
from xinex.annotations.schemas import AnnotationCreate, AnnotationOut, AnnotationUpdate
from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.annotations import Annotation

OVERLAY_LIMIT = 500


def to_out(a: Annotation) -> AnnotationOut:
    return AnnotationOut(id=a.id, tenant_id=a.tenant_id, name=a.name, description=a.description, time=a.start_at,
                         start=a.start_at, end=a.end_at, tags=list(a.tags or []), created_at=a.created_at,
                         updated_at=a.updated_at)


def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


async def create(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, data: AnnotationCreate) -> Annotation:
    assert principal.tenant_id is not None  # Authorize: an active tenant
    start = data.time or data.start or utcnow()
    if data.end is not None and data.end < start:
        raise _invalid("end", "end must not be before start")
    a = Annotation(tenant_id=principal.tenant_id, name=data.name, description=data.description or "",
                   start_at=start, end_at=data.end, tags=data.tags or [])
    session.add(a)
    await session.flush()
    audit.record(session, "annotation.created", context=audit_ctx, principal=principal, target_type="annotation",
                 target_id=a.id, details={"name": a.name})
    return a


def record_change(session: AsyncSession, tenant_id: uuid.UUID, *, name: str, description: str, at: datetime,
                  tags: list[str]) -> Annotation:
    """An annotation a sender wrote (a PagerDuty change event: a deploy, a config change), at a point in
    time, in the caller's transaction: drawn on charts like any other, no audit record (no person)."""
    a = Annotation(tenant_id=tenant_id, name=name[:200], description=description, start_at=at, end_at=None,
                   tags=tags)
    session.add(a)
    return a


async def get(session: AsyncSession, annotation_id: uuid.UUID) -> Annotation:
    return await AnnotationRepository(session).get_or_404(annotation_id)


def _apply(a: Annotation, data: AnnotationUpdate) -> None:
    fields = data.model_fields_set
    if "name" in fields and data.name is not None:
        a.name = data.name
    if "description" in fields:
        a.description = data.description or ""
    if "tags" in fields:
        a.tags = data.tags or []
    if data.time is not None:
        a.start_at, a.end_at = data.time, None
    else:
        if data.start is not None:
            a.start_at = data.start
        if "end" in fields:
            a.end_at = data.end
    if a.end_at is not None and a.end_at < a.start_at:
        raise _invalid("end", "end must not be before start")
    a.updated_at = utcnow()


async def update(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, annotation_id: uuid.UUID,
                 data: AnnotationUpdate, if_match: str | None) -> Annotation:
    """Fields left out stay; a stale If-Match is a 412 before anything changes."""
    return await AnnotationRepository(session).update_checked(
        annotation_id, if_match, lambda a: _apply(a, data), refresh=True,
        audit=lambda a: audit.record(session, "annotation.updated", context=audit_ctx, principal=principal,
                                     target_type="annotation", target_id=a.id,
                                     details={"fields": sorted(data.model_fields_set)}))


async def delete(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, annotation_id: uuid.UUID,
                 if_match: str | None) -> None:
    await AnnotationRepository(session).delete_checked(
        annotation_id, if_match,
        audit=lambda a: audit.record(session, "annotation.deleted", context=audit_ctx, principal=principal,
                                     target_type="annotation", target_id=a.id, details={"name": a.name}))


async def list_page(session: AsyncSession, params: PageParams, since: datetime | None, until: datetime | None,
                    name: str | None, tags: list[str] | None) -> Page[AnnotationOut]:
    repo = AnnotationRepository(session)
    return await repo.page(params, repo.filtered(since, until, name, tags), out=to_out)


async def overlay(session: AsyncSession, since: datetime, until: datetime) -> list[AnnotationOut]:
    """The annotations drawn over a /dsl result covering [since, until]."""
    stmt = AnnotationRepository(session).filtered(since, until).limit(OVERLAY_LIMIT)
    rows = (await session.execute(stmt)).scalars().all()
    return [to_out(a) for a in rows]
