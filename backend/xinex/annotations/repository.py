"""The annotations domain's queries, on the kit base (tenant scoping inherited from the session)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, cast, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.annotations import Annotation


class AnnotationRepository(Repository[Annotation]):
    model = Annotation
    label = "annotation"

    def filtered(self, since: datetime | None = None, until: datetime | None = None,
                 name: str | None = None, tags: list[str] | None = None) -> Select[Any]:
        """Annotations overlapping [since, until], whose name starts with `name`, carrying every tag."""
        stmt: Select[Any] = self.select()
        if until is not None:
            stmt = stmt.where(col(Annotation.start_at) <= until)
        if since is not None:
            stmt = stmt.where(func.coalesce(col(Annotation.end_at), col(Annotation.start_at)) >= since)
        if name:
            stmt = stmt.where(col(Annotation.name).startswith(name, autoescape=True))
        postgres = self.session.get_bind().dialect.name == "postgresql"
        for i, tag in enumerate(tags or []):
            if postgres:
                stmt = stmt.where(col(Annotation.tags).op("@>")(cast([tag], JSONB)))
            else:
                param = f"tag_{i}"
                stmt = stmt.where(text(
                    f"EXISTS (SELECT 1 FROM json_each(annotations.tags) WHERE json_each.value = :{param})"
                ).bindparams(**{param: tag}))
        return stmt.order_by(col(Annotation.start_at).desc(), col(Annotation.id))
