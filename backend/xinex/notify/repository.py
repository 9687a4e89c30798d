"""The notify domain's queries: channels, the delivery log, preferences and the in-app feed. Every statement
runs on the caller's session, so the tenant criterion is the session's (kit/tenancy.py): another tenant's
channel reads as missing."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlmodel import col

from xinex.kit.errors import not_found
from xinex.kit.repository import Repository
from xinex.kit.tenancy import bound_tenant
from xinex.kit.types import utcnow
from xinex.models.notify import FeedItem, NotificationAttempt, NotificationChannel, NotificationPref
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

    async def members_among(self, user_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """Which of `user_ids` are members of the bound tenant (memberships are read across tenants by an
        unbound session, so refuse one rather than answer for every tenant)."""
        bound_tenant(self.session)
        return set((await self.session.execute(select(col(Membership.user_id)).where(
            col(Membership.user_id).in_(user_ids)))).scalars())


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

    async def of_user(self, user_id: uuid.UUID) -> NotificationPref | None:
        """The user's preferences in the bound tenant (None: the defaults). A system scope would read every
        tenant's: refused (`bound_tenant`), so delivery must run tenant-bound."""
        bound_tenant(self.session)
        stmt = self.select().where(col(NotificationPref.user_id) == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()


class FeedRepository(Repository[FeedItem]):
    """The in-app feed: one item per (user, tenant, dedup_key)."""

    model = FeedItem
    label = "feed item"

    def mine(self, user_id: uuid.UUID, *, unread_only: bool = False) -> Select[FeedItem]:
        """The user's items, newest first."""
        stmt = self.select().where(col(FeedItem.user_id) == user_id)
        if unread_only:
            stmt = stmt.where(col(FeedItem.read_at).is_(None))
        return stmt.order_by(col(FeedItem.created_at).desc(), col(FeedItem.id))

    async def unread_count(self, user_id: uuid.UUID) -> int:
        stmt = (select(func.count()).select_from(FeedItem)
                .where(col(FeedItem.user_id) == user_id, col(FeedItem.read_at).is_(None)))
        return int((await self.session.execute(stmt)).scalar_one())

    async def mark_read(self, user_id: uuid.UUID, item_id: uuid.UUID) -> FeedItem:
        """404 unless the item is the user's (in the bound tenant)."""
        stmt = self.select().where(col(FeedItem.id) == item_id, col(FeedItem.user_id) == user_id)
        item = (await self.session.execute(stmt)).scalar_one_or_none()
        if item is None:
            raise not_found(self.label)
        if item.read_at is None:
            item.read_at = utcnow()
            await self.session.flush()
        return item

    async def mark_all_read(self, user_id: uuid.UUID) -> int:
        result = await self.session.execute(
            update(FeedItem).where(col(FeedItem.user_id) == user_id, col(FeedItem.read_at).is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def delivered(self, tenant_id: uuid.UUID, user_id: uuid.UUID, dedup_key: str) -> FeedItem | None:
        """The item this dedup key already put in the user's feed. Names its tenant: billing adds plan
        notices from its jobs' system scope, where the session adds no criterion."""
        stmt = self.select().where(col(FeedItem.tenant_id) == tenant_id, col(FeedItem.user_id) == user_id,
                                   col(FeedItem.dedup_key) == dedup_key)
        return (await self.session.execute(stmt)).scalar_one_or_none()
