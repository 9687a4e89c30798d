"""Annotation rules: time normalisation, filters (time overlap, name prefix, tags), overlay."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.annotations.schemas import AnnotationCreate, AnnotationOut, AnnotationUpdate
from xinex.kit.errors import AppError, not_found
from xinex.kit.types import utcnow
from xinex.models.annotations import Annotation

OVERLAY_LIMIT = 500


def to_out(a: Annotation) -> AnnotationOut:
    return AnnotationOut(id=a.id, tenant_id=a.tenant_id, name=a.name, description=a.description, time=a.start_at,
                         start=a.start_at, end=a.end_at, tags=list(a.tags or []), created_at=a.created_at,
                         updated_at=a.updated_at)


def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


async def create(session: AsyncSession, tenant_id: uuid.UUID, data: AnnotationCreate) -> Annotation:
    start = data.time or data.start or utcnow()
    if data.end is not None and data.end < start:
        raise _invalid("end", "end must not be before start")
    a = Annotation(tenant_id=tenant_id, name=data.name, description=data.description or "", start_at=start,
                   end_at=data.end, tags=data.tags or [])
    session.add(a)
    await session.flush()
    return a


async def get(session: AsyncSession, annotation_id: uuid.UUID) -> Annotation:
    a = (await session.execute(select(Annotation).where(Annotation.id == annotation_id))).scalar_one_or_none()
    if a is None:
        raise not_found("annotation")
    return a


def update(a: Annotation, data: AnnotationUpdate) -> None:
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


def filtered(session: AsyncSession, since: datetime | None = None, until: datetime | None = None,
             name: str | None = None, tags: list[str] | None = None) -> Select:
    """Annotations overlapping [since, until], whose name starts with `name`, carrying every tag."""
    stmt = select(Annotation)
    if until is not None:
        stmt = stmt.where(Annotation.start_at <= until)
    if since is not None:
        stmt = stmt.where(func.coalesce(Annotation.end_at, Annotation.start_at) >= since)
    if name:
        stmt = stmt.where(Annotation.name.startswith(name, autoescape=True))
    postgres = session.bind.dialect.name == "postgresql"
    for i, tag in enumerate(tags or []):
        if postgres:
            stmt = stmt.where(Annotation.tags.op("@>")(cast([tag], JSONB)))
        else:
            param = f"tag_{i}"
            stmt = stmt.where(text(f"EXISTS (SELECT 1 FROM json_each(annotations.tags) WHERE json_each.value = :{param})")
                              .bindparams(**{param: tag}))
    return stmt.order_by(Annotation.start_at.desc(), Annotation.id)


async def overlay(session: AsyncSession, since: datetime, until: datetime) -> list[AnnotationOut]:
    """The annotations drawn over a /dsl result covering [since, until]."""
    rows = (await session.execute(filtered(session, since, until).limit(OVERLAY_LIMIT))).scalars().all()
    return [to_out(a) for a in rows]
