"""Channel management: per-kind validation, secret masking, membership checks for push."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit import outbound
from xinex.kit.errors import AppError, not_found
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationChannel
from xinex.models.oncall import EscalationPolicy, RoutingRule
from xinex.models.tenant import Membership
from xinex.notify import default_route
from xinex.notify.channels import KINDS
from xinex.notify.schemas import ChannelCreate, ChannelOut, ChannelUpdate

MAX_CHANNELS = 200


def to_out(channel: NotificationChannel, default_ids: set[str]) -> ChannelOut:
    """`default_ids`: the default route's channels (notify.default_route.default_channel_ids)."""
    return ChannelOut(id=channel.id, tenant_id=channel.tenant_id, name=channel.name, kind=channel.kind,
                      config=KINDS[channel.kind].mask(channel.config or {}), enabled=channel.enabled,
                      default=str(channel.id) in default_ids, created_at=channel.created_at,
                      updated_at=channel.updated_at)


async def get(session: AsyncSession, channel_id: uuid.UUID) -> NotificationChannel:
    channel = (await session.execute(select(NotificationChannel).where(
        NotificationChannel.id == channel_id))).scalar_one_or_none()
    if channel is None:
        raise not_found("notification channel")
    return channel


# The config key holding the URL of each kind that posts over HTTP.
URL_FIELD = {"slack": "webhook_url", "discord": "webhook_url", "teams": "webhook_url", "webhook": "url"}


async def _validate(session: AsyncSession, tenant_id: uuid.UUID, kind: str, config: dict) -> dict:
    clean = KINDS[kind].validate(config)
    if kind in URL_FIELD:
        try:
            await outbound.refuse_unreachable_url(clean[URL_FIELD[kind]])
        except outbound.OutboundError as exc:
            raise AppError("VALIDATION_FAILED", "The request did not validate", details={
                "fields": {f"config.{URL_FIELD[kind]}": f"target refused: {exc}"}, "reason": exc.reason}) from None
    if kind == "push":
        wanted = {uuid.UUID(u) for u in clean["user_ids"]}
        found = set((await session.execute(select(Membership.user_id).where(
            Membership.tenant_id == tenant_id, Membership.user_id.in_(wanted)))).scalars())
        if wanted - found:
            raise AppError("VALIDATION_FAILED", "The request did not validate",
                           details={"fields": {"config.user_ids": "every user must be a member of this tenant"}})
    return clean


async def create(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID,
                 data: ChannelCreate) -> NotificationChannel:
    count = (await session.execute(select(func.count()).select_from(NotificationChannel))).scalar_one()
    if count >= MAX_CHANNELS:
        raise AppError("CONFLICT", f"At most {MAX_CHANNELS} notification channels per tenant")
    config = await _validate(session, tenant_id, data.kind, data.config)
    channel = NotificationChannel(tenant_id=tenant_id, name=data.name.strip(), kind=data.kind, config=config,
                                  enabled=data.enabled, created_by=user_id)
    session.add(channel)
    await session.flush()
    if data.default:
        await default_route.set_on_default_route(session, tenant_id, channel.id, True)
    return channel


async def update(session: AsyncSession, channel: NotificationChannel, data: ChannelUpdate) -> None:
    if data.name is not None:
        channel.name = data.name.strip()
    if data.enabled is not None:
        channel.enabled = data.enabled
    if data.config is not None:
        module = KINDS[channel.kind]
        merged = module.merge(data.config, channel.config or {})
        channel.config = await _validate(session, channel.tenant_id, channel.kind, merged)
    if data.default is not None:
        await default_route.set_on_default_route(session, channel.tenant_id, channel.id, data.default)
        channel.updated_at = utcnow()  # the representation changed: a new ETag
    await session.flush()
    await session.refresh(channel)


async def users_of(session: AsyncSession, channel_id: uuid.UUID) -> list[str]:
    """The routing rules (other than the default route) and escalation policies that send to it."""
    cid = str(channel_id)
    rules = (await session.execute(select(RoutingRule.name, RoutingRule.channel_ids)
                                   .where(RoutingRule.is_default.is_(False)))).all()
    policies = (await session.execute(select(EscalationPolicy.name, EscalationPolicy.steps))).all()
    return ([f"routing rule {name!r}" for name, ids in rules if cid in {str(i) for i in ids or []}]
            + [f"escalation policy {name!r}" for name, steps in policies
               if any(t.get("type") == "channel" and str(t.get("id")) == cid
                      for step in steps or [] for t in step.get("targets") or [])])


async def delete(session: AsyncSession, channel: NotificationChannel) -> None:
    """Refused while a rule or policy sends to it (they would page nothing); leaves the default route."""
    users = await users_of(session, channel.id)
    if users:
        raise AppError("CONFLICT", f"The channel is used by {', '.join(users[:5])}: take it out of those first",
                       details={"used_by": users})
    await default_route.set_on_default_route(session, channel.tenant_id, channel.id, False)
    await session.delete(channel)
