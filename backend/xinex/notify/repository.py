"""The notify domain's channel and delivery-log queries. Every statement runs on the caller's session,
so the tenant criterion is the session's (kit/tenancy.py): another tenant's channel reads as missing.
(The in-app feed's and the preferences' queries are in feed.py and prefs.py.)"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.notify import NotificationAttempt, NotificationChannel, NotificationPref
from xinex.models.oncall import EscalationPolicy, RoutingRule
from xinex.models.tenant import Membership


class ChannelRepository(Repository[NotificationChannel]):
    model = NotificationChannel
    label = "notification channel"

    def by_name(self, *, kind: str | None = None) -> Select[NotificationChannel]:
        stmt = select(NotificationChannel)
        if kind:
            stmt = stmt.where(col(NotificationChannel.kind) == kind)
        return stmt.order_by(col(NotificationChannel.name), col(NotificationChannel.id))

    async def count(self) -> int:
        return int((await self.session.execute(select(func.count()).select_from(NotificationChannel))).scalar_one())

    async def routes_and_policies(self) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
        """(name, channel_ids) of every routing rule but the default route; (name, steps) of every policy."""
        rules = (await self.session.execute(select(col(RoutingRule.name), col(RoutingRule.channel_ids))
                                            .where(col(RoutingRule.is_default).is_(False)))).all()
        policies = (await self.session.execute(select(col(EscalationPolicy.name),
                                                      col(EscalationPolicy.steps)))).all()
        return [(n, ids) for n, ids in rules], [(n, steps) for n, steps in policies]

    async def members_among(self, tenant_id: uuid.UUID | None, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return set((await self.session.execute(select(col(Membership.user_id)).where(
            col(Membership.tenant_id) == tenant_id, col(Membership.user_id).in_(user_ids)))).scalars())


class AttemptRepository(Repository[NotificationAttempt]):
    model = NotificationAttempt
    label = "notification attempt"

    def filtered(self, *, channel_id: uuid.UUID | None = None, incident_id: uuid.UUID | None = None,
                 user_id: uuid.UUID | None = None, status: str | None = None) -> Select[NotificationAttempt]:
        """The delivery log, newest first."""
        stmt = select(NotificationAttempt)
        if channel_id:
            stmt = stmt.where(col(NotificationAttempt.channel_id) == channel_id)
        if incident_id:
            stmt = stmt.where(col(NotificationAttempt.incident_id) == incident_id)
        if user_id:
            stmt = stmt.where(col(NotificationAttempt.user_id) == user_id)
        if status:
            stmt = stmt.where(col(NotificationAttempt.status) == status)
        return stmt.order_by(col(NotificationAttempt.created_at).desc(), col(NotificationAttempt.id))


class PrefRepository(Repository[NotificationPref]):
    model = NotificationPref
    label = "notification preferences"
