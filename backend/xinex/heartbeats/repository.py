"""The heartbeat domain's queries for the API and the compatible dialect (the ping path's batched
statements live with the batching, in apply.py). On the kit base: tenant scoping is the session's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import col

from xinex.kit.errors import not_found
from xinex.kit.repository import Repository
from xinex.models.ai_heartbeats import AiHeartbeat
from xinex.models.heartbeats import Heartbeat, HeartbeatPing, HeartbeatRun
from xinex.models.heartbeats import HeartbeatStatus as S


class HeartbeatRepository(Repository[Heartbeat]):
    model = Heartbeat
    label = "heartbeat"

    def filtered(self, *, status: str | None = None, tag: str | None = None) -> Select[Heartbeat]:
        """The list's statement: by name, filtered by status and a tag."""
        stmt = self.select()
        if status:
            stmt = stmt.where(col(Heartbeat.status) == status)
        if tag:
            if self.session.get_bind().dialect.name == "postgresql":
                stmt = stmt.where(col(Heartbeat.tags).op("@>")(cast([tag], JSONB)))
            else:
                stmt = stmt.where(text("EXISTS (SELECT 1 FROM json_each(heartbeats.tags) WHERE json_each.value = :tag)")
                                  .bindparams(tag=tag))
        return stmt.order_by(col(Heartbeat.name), col(Heartbeat.id))

    async def by_slug_or_404(self, slug: str) -> Heartbeat:
        hb = (await self.session.scalars(self.select().where(col(Heartbeat.slug) == slug))).one_or_none()
        if hb is None:
            raise not_found(self.label)
        return hb

    async def slug_taken(self, slug: str, exclude: uuid.UUID | None = None) -> bool:
        stmt = select(col(Heartbeat.id)).where(col(Heartbeat.slug) == slug)
        if exclude is not None:
            stmt = stmt.where(col(Heartbeat.id) != exclude)
        return (await self.session.execute(stmt.limit(1))).first() is not None

    async def first_by_name(self, name: str) -> Heartbeat | None:
        """The oldest heartbeat of this name (the compatible dialect addresses jobs by name)."""
        stmt = self.select().where(col(Heartbeat.name) == name).order_by(col(Heartbeat.created_at)).limit(1)
        return (await self.session.scalars(stmt)).one_or_none()

    def count_running(self) -> Select[Any]:
        """The tenant's heartbeats that are not paused (what a plan's limit holds after a downgrade)."""
        return select(func.count()).select_from(Heartbeat).where(col(Heartbeat.status) != S.paused.value)

    @staticmethod
    def counted_against_limit() -> list[Select[Any]]:
        """What the tier's heartbeat allowance counts: heartbeats and AI heartbeats together."""
        return [select(func.count()).select_from(model) for model in (Heartbeat, AiHeartbeat)]

    @staticmethod
    def runs(heartbeat_id: uuid.UUID) -> Select[HeartbeatRun]:
        return (select(HeartbeatRun).where(col(HeartbeatRun.heartbeat_id) == heartbeat_id)
                .order_by(col(HeartbeatRun.started_at).desc(), col(HeartbeatRun.id)))

    @staticmethod
    def pings(heartbeat_id: uuid.UUID, kind: str | None = None) -> Select[HeartbeatPing]:
        stmt = select(HeartbeatPing).where(col(HeartbeatPing.heartbeat_id) == heartbeat_id)
        if kind:
            stmt = stmt.where(col(HeartbeatPing.kind) == kind)
        return stmt.order_by(col(HeartbeatPing.seq).desc())
