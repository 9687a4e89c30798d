"""Maintenance windows and silence rules: suppress paging, never the record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.models.incidents import MaintenanceWindow, SilenceRule


@dataclass(frozen=True)
class Suppression:
    kind: str  # maintenance | silence
    id: uuid.UUID
    name: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "id": str(self.id), "name": self.name}


def window_matches(w: MaintenanceWindow, source_type: str, source_id: uuid.UUID | None, tags: list[str]) -> bool:
    if w.source_type and w.source_type != source_type:
        return False
    if w.source_ids and str(source_id) not in {str(i) for i in w.source_ids}:
        return False
    return not w.tags or bool(set(w.tags) & set(tags))


def silence_matches(rule: SilenceRule, source_type: str, source_id: uuid.UUID | None, tags: list[str],
                    severity: str | None, host: str | None, service: str | None, project: str | None) -> bool:
    if rule.source_type and rule.source_type != source_type:
        return False
    if rule.source_id and rule.source_id != source_id:
        return False
    if rule.tags and not set(rule.tags) <= set(tags):
        return False
    if rule.severities and severity not in rule.severities:
        return False
    return all(not getattr(rule, attr) or getattr(rule, attr) == value
               for attr, value in (("host", host), ("service", service), ("project", project)))


async def is_suppressed(session: AsyncSession, source_type: str, source_id: uuid.UUID | None, tags: list[str],
                        at: datetime, *, severity: str | None = None, host: str | None = None,
                        service: str | None = None, project: str | None = None) -> Suppression | None:
    """The maintenance window or silence rule covering this source at `at`, or None."""
    windows = (await session.execute(select(MaintenanceWindow).where(
        MaintenanceWindow.starts_at <= at, MaintenanceWindow.ends_at > at).order_by(MaintenanceWindow.starts_at)
    )).scalars().all()
    for w in windows:
        if window_matches(w, source_type, source_id, tags):
            return Suppression("maintenance", w.id, w.name)
    rules = (await session.execute(select(SilenceRule).where(
        SilenceRule.starts_at <= at, SilenceRule.ends_at > at).order_by(SilenceRule.starts_at))).scalars().all()
    for rule in rules:
        if silence_matches(rule, source_type, source_id, tags, severity, host, service, project):
            return Suppression("silence", rule.id, rule.name)
    return None
