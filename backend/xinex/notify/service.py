"""The notify domain's use cases: channels (per-kind validation, secret masking, membership checks for
push, their place on the default route), test sends, the delivery log, and the caller's own
preferences and feed — with their audit records. Sending is send.py's; retries are jobs.py's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit import outbound
from xinex.kit.errors import AppError
from xinex.kit.etag import check_if_match_value, version_tag
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.notify import FeedItem, NotificationAttempt, NotificationChannel, NotificationPref
from xinex.notify import default_route, prefs
from xinex.notify.channels import KINDS
from xinex.notify.message import NotificationMessage
from xinex.notify.repository import AttemptRepository, ChannelRepository, FeedRepository, PrefRepository
from xinex.notify.schemas import (
    AttemptOut,
    ChannelCreate,
    ChannelOut,
    ChannelUpdate,
    FeedItemOut,
    FeedPage,
    PrefsIn,
    PrefsOut,
)
from xinex.notify.send import send_to_channel

MAX_CHANNELS = 200


def to_out(channel: NotificationChannel, default_ids: set[str]) -> ChannelOut:
    """`default_ids`: the default route's channels (notify.default_route.default_channel_ids)."""
    return ChannelOut(id=channel.id, tenant_id=channel.tenant_id, name=channel.name, kind=channel.kind,
                      config=KINDS[channel.kind].mask(channel.config or {}), enabled=channel.enabled,
                      default=str(channel.id) in default_ids, created_at=channel.created_at,
                      updated_at=channel.updated_at)


async def get(session: AsyncSession, channel_id: uuid.UUID) -> NotificationChannel:
    return await ChannelRepository(session).get_or_404(channel_id)


async def out(session: AsyncSession, channel: NotificationChannel) -> ChannelOut:
    return to_out(channel, await default_route.default_channel_ids(session))


async def channels_page(session: AsyncSession, params: PageParams, *, kind: str | None) -> Page[ChannelOut]:
    repo = ChannelRepository(session)
    channels = await repo.page(params, repo.by_name(kind=kind))
    defaults = await default_route.default_channel_ids(session)
    return Page.of([to_out(c, defaults) for c in channels.items], channels.total, params)


# The config key holding the URL of each kind that posts over HTTP.
URL_FIELD = {"slack": "webhook_url", "discord": "webhook_url", "teams": "webhook_url", "webhook": "url"}


async def _validate(session: AsyncSession, kind: str,
                    config: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = KINDS[kind].validate(config)
    if kind in URL_FIELD:
        try:
            await outbound.refuse_unreachable_url(clean[URL_FIELD[kind]])
        except outbound.OutboundError as exc:
            raise AppError("VALIDATION_FAILED", "The request did not validate", details={
                "fields": {f"config.{URL_FIELD[kind]}": f"target refused: {exc}"}, "reason": exc.reason}) from None
    if kind == "push":
        wanted = {uuid.UUID(u) for u in clean["user_ids"]}
        if wanted - await ChannelRepository(session).members_among(wanted):
            raise AppError("VALIDATION_FAILED", "The request did not validate",
                           details={"fields": {"config.user_ids": "every user must be a member of this tenant"}})
    return clean


async def create(session: AsyncSession, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None,
                 data: ChannelCreate, *, audit_ctx: AuditContext | None = None,
                 principal: Principal | None = None) -> NotificationChannel:
    if await ChannelRepository(session).count() >= MAX_CHANNELS:
        raise AppError("CONFLICT", f"At most {MAX_CHANNELS} notification channels per tenant")
    config = await _validate(session, data.kind, data.config)
    channel = NotificationChannel(name=data.name.strip(), kind=data.kind, config=config, enabled=data.enabled,
                                  created_by=user_id)
    if tenant_id is not None:  # else the session's tenant (kit/tenancy.py stamps it at flush)
        channel.tenant_id = tenant_id
    session.add(channel)
    await session.flush()
    if data.default:
        await default_route.set_on_default_route(session, channel.tenant_id, channel.id, True)
    audit.record(session, "notification_channel.created", context=audit_ctx, principal=principal,
                 target_type="notification_channel", target_id=channel.id,
                 details={"name": channel.name, "kind": channel.kind, "default": data.default})
    return channel


async def _apply(session: AsyncSession, channel: NotificationChannel, data: ChannelUpdate) -> None:
    if data.name is not None:
        channel.name = data.name.strip()
    if data.enabled is not None:
        channel.enabled = data.enabled
    if data.config is not None:
        module = KINDS[channel.kind]
        merged = module.merge(data.config, channel.config or {})
        channel.config = await _validate(session, channel.kind, merged)
    if data.default is not None:
        await default_route.set_on_default_route(session, channel.tenant_id, channel.id, data.default)
        channel.updated_at = utcnow()  # the representation changed: a new ETag


async def update(session: AsyncSession, channel_id: uuid.UUID, data: ChannelUpdate, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> NotificationChannel:
    """Fields left out stay; `config` replaces the kind's whole config (masked values keep the stored secrets)."""
    return await ChannelRepository(session).update_checked(
        channel_id, if_match, lambda channel: _apply(session, channel, data), refresh=True,
        audit=lambda channel: audit.record(session, "notification_channel.updated", context=audit_ctx,
                                           principal=principal, target_type="notification_channel",
                                           target_id=channel.id, details={"fields": sorted(data.model_fields_set)}))


async def users_of(session: AsyncSession, channel_id: uuid.UUID) -> list[str]:
    """The routing rules (other than the default route) and escalation policies that send to it."""
    cid = str(channel_id)
    rules, policies = await ChannelRepository(session).routes_and_policies()
    return ([f"routing rule {name!r}" for name, ids in rules if cid in {str(i) for i in ids or []}]
            + [f"escalation policy {name!r}" for name, steps in policies
               if any(t.get("type") == "channel" and str(t.get("id")) == cid
                      for step in steps or [] for t in step.get("targets") or [])])


async def delete(session: AsyncSession, channel_id: uuid.UUID, if_match: str | None, *,
                 audit_ctx: AuditContext | None = None, principal: Principal | None = None) -> None:
    """Refused while a rule or policy sends to it (they would page nothing, 409; after If-Match's 412);
    leaves the default route."""
    repo = ChannelRepository(session)
    channel = await repo.get_or_404(channel_id)
    check_if_match_value(if_match, version_tag(channel))
    users = await users_of(session, channel.id)
    if users:
        raise AppError("CONFLICT", f"The channel is used by {', '.join(users[:5])}: take it out of those first",
                       details={"used_by": users})
    await default_route.set_on_default_route(session, channel.tenant_id, channel.id, False)
    await repo.delete_checked(channel, if_match, audit=lambda c: audit.record(
        session, "notification_channel.deleted", context=audit_ctx, principal=principal,
        target_type="notification_channel", target_id=c.id, details={"name": c.name}))


async def send_test(session: AsyncSession, channel_id: uuid.UUID, public_url: str, *, audit_ctx: AuditContext | None = None,
                    principal: Principal | None = None) -> NotificationAttempt | None:
    """A real message now, marked as a test; the log entry of its attempt."""
    channel = await get(session, channel_id)
    message = NotificationMessage(
        tenant_id=channel.tenant_id, event="test", title=f"Test notification for {channel.name}",
        body="This is a test from Xinex: if you can read it, the channel works. No incident is behind it.",
        severity="info", incident_id=None, url=public_url.rstrip("/") + "/",
        dedup_key=f"test:{uuid.uuid4()}", test=True)
    row = await send_to_channel(session, channel.id, message)
    audit.record(session, "notification_channel.tested", context=audit_ctx, principal=principal,
                 target_type="notification_channel", target_id=channel.id,
                 details={"status": row.status if row else None})
    return row


async def log_page(session: AsyncSession, params: PageParams, *, channel_id: uuid.UUID | None = None,
                   incident_id: uuid.UUID | None = None, user_id: uuid.UUID | None = None,
                   status: str | None = None) -> Page[AttemptOut]:
    repo = AttemptRepository(session)
    return await repo.page(params, repo.filtered(channel_id=channel_id, incident_id=incident_id, user_id=user_id,
                                                 status=status),
                           out=AttemptOut.of)


# --- the caller's own preferences and feed ---------------------------------------------------------

def prefs_out(pref: NotificationPref) -> PrefsOut:
    return PrefsOut.model_validate({
        "id": pref.id, "tenant_id": pref.tenant_id, "user_id": pref.user_id, "rules": prefs.effective_rules(pref),
        "quiet_hours": pref.quiet_hours, "created_at": pref.created_at, "updated_at": pref.updated_at})


async def own_pref(session: AsyncSession, principal: Principal) -> NotificationPref:
    """The caller's preferences in this tenant, created with the defaults on first use."""
    assert principal.tenant_id is not None and principal.user_id is not None  # Authorize: a member's principal
    pref = await PrefRepository(session).of_user(principal.user_id)
    if pref is None:
        pref = NotificationPref(tenant_id=principal.tenant_id, user_id=principal.user_id, rules={})
        session.add(pref)
        await session.flush()
    return pref


async def update_prefs(session: AsyncSession, principal: Principal, data: PrefsIn, if_match: str | None, *,
                       audit_ctx: AuditContext | None = None) -> NotificationPref:
    def change(pref: NotificationPref) -> None:
        pref.rules = dict(data.rules)
        pref.quiet_hours = data.quiet_hours.model_dump() if data.quiet_hours else None

    return await PrefRepository(session).update_checked(
        await own_pref(session, principal), if_match, change, refresh=True,
        audit=lambda pref: audit.record(session, "notification_prefs.updated", context=audit_ctx, principal=principal,
                                        target_type="notification_prefs", target_id=pref.id,
                                        details={"severities": sorted(data.rules),
                                                 "quiet_hours": data.quiet_hours is not None}))


def item_out(item: Any) -> FeedItemOut:
    return FeedItemOut(id=item.id, tenant_id=item.tenant_id, user_id=item.user_id, event=item.event, title=item.title,
                       body=item.body, severity=item.severity, incident_id=item.incident_id, url=item.url,
                       read=item.read_at is not None, read_at=item.read_at, created_at=item.created_at,
                       updated_at=item.updated_at)


async def feed_page(session: AsyncSession, principal: Principal, params: PageParams, *, unread: bool) -> FeedPage:
    """The caller's feed, newest first, with the unread count."""
    assert principal.user_id is not None  # Authorize: a member's principal
    repo = FeedRepository(session)
    page = await repo.page(params, repo.mine(principal.user_id, unread_only=unread), out=item_out)
    return FeedPage(**page.model_dump(), unread_count=await repo.unread_count(principal.user_id))


async def unread_count(session: AsyncSession, principal: Principal) -> int:
    assert principal.user_id is not None  # Authorize: a member's principal
    return await FeedRepository(session).unread_count(principal.user_id)


async def mark_all_read(session: AsyncSession, principal: Principal) -> tuple[int, int]:
    """Mark every item of the caller read: (how many were marked, the unread count after)."""
    assert principal.user_id is not None  # Authorize: a member's principal
    repo = FeedRepository(session)
    marked = await repo.mark_all_read(principal.user_id)
    return marked, await repo.unread_count(principal.user_id)


async def mark_read(session: AsyncSession, principal: Principal, item_id: uuid.UUID) -> FeedItem:
    """One of the caller's items, marked read (404: not an item of the caller's in this tenant)."""
    assert principal.user_id is not None  # Authorize: a member's principal
    item = await FeedRepository(session).mark_read(principal.user_id, item_id)
    await session.refresh(item)
    return item
