"""Maintenance windows and silence rules: suppress paging, never the record."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.incidents.repository import SilenceRepository
from xinex.maintenance.service import active_windows
from xinex.models.incidents import SilenceRule


@dataclass(frozen=True)
class Suppression:
    kind: str  # maintenance | silence
    id: uuid.UUID
    name: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "id": str(self.id), "name": self.name}


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
    # The maintenance package owns windows (one-off and recurring) and their scope rules.
    windows = await active_windows(session, source_type=source_type, source_id=source_id, tags=tags, at=at)
    if windows:
        return Suppression("maintenance", windows[0].id, windows[0].name)
    for rule in await SilenceRepository(session).in_force(at):
        if silence_matches(rule, source_type, source_id, tags, severity, host, service, project):
            return Suppression("silence", rule.id, rule.name)
    return None
