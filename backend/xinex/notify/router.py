"""`/notification-channels` CRUD and test sends, `/notification-log`, and the caller's own notification
preferences and in-app feed (`/users/me/notification-prefs`, `/notifications/feed`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.openapi import typed_body
from xinex.kit.pagination import Page, PageDep
from xinex.models.tenant import Role
from xinex.notify import service
from xinex.notify.schemas import (
    CHANNEL_EXAMPLES,
    AttemptOut,
    ChannelCreate,
    ChannelCreateDoc,
    ChannelOut,
    ChannelUpdate,
    ChannelUpdateDoc,
    FeedItemOut,
    FeedPage,
    PrefsIn,
    PrefsOut,
    ReadAllOut,
    UnreadCount,
)

router = APIRouter(tags=["notifications"])
NotifyPrincipal = Annotated[Principal, Depends(Authorize("notifications"))]
KindFilter = Literal["slack", "discord", "teams", "webhook", "email", "push"]
# Your own feed and preferences: any member, read scope (marking read is not a tenant mutation).
Reader = Annotated[Principal, Depends(Authorize("notifications", write=False))]
Writer = Annotated[Principal, Depends(Authorize("notifications", write=True, min_role=Role.viewer))]


@router.get("/notification-channels", response_model=Page[ChannelOut], responses=error_responses(401, 403, 422))
async def list_channels(principal: NotifyPrincipal, session: SessionDep, params: PageDep,
                        kind: KindFilter | None = None) -> Page[ChannelOut]:
    """Notification channels, by name, filtered by kind. Secrets in config (webhook URLs, header values, signing
    secrets) are masked; `default` says whether the channel is on the default route."""
    return await service.channels_page(session, params, kind=kind)


@router.post("/notification-channels", status_code=201, response_model=ChannelOut,
             responses=error_responses(401, 403, 409, 422), openapi_extra=typed_body(ChannelCreateDoc, CHANNEL_EXAMPLES))
async def create_channel(data: ChannelCreate, audit_ctx: AuditCtx, response: Response, principal: NotifyPrincipal,
                         session: SessionDep) -> ChannelOut:
    """Create a channel: where pages go (Slack, Discord, Teams, a signed webhook, e-mail addresses, or
    members' phones). `kind` decides the shape of `config`. A URL that can never be reached under the
    server's outbound policy is refused here (422), not at the first page. With `default: true` (the
    default) the channel joins the default route and gets every alert no routing rule matched.
    At most 200 channels per tenant (409)."""
    channel = await service.create(session, principal.tenant_id, principal.user_id, data, audit_ctx=audit_ctx,
                                   principal=principal)
    set_version(response, channel)
    return await service.out(session, channel)


@router.get("/notification-channels/{channel_id}", response_model=ChannelOut,
            responses=error_responses(401, 403, 404, 422))
async def read_channel(channel_id: uuid.UUID, response: Response, principal: NotifyPrincipal, session: SessionDep) -> ChannelOut:
    """One channel, secrets masked. 404: no such channel in this tenant."""
    channel = await service.get(session, channel_id)
    set_version(response, channel)
    return await service.out(session, channel)


@router.put("/notification-channels/{channel_id}", response_model=ChannelOut,
            responses=error_responses(401, 403, 404, 412, 422),
            openapi_extra=typed_body(ChannelUpdateDoc, {"rename": {"name": "#ops-eu"},
                                                        "leave the default route": {"default": False}}))
async def update_channel(channel_id: uuid.UUID, data: ChannelUpdate, audit_ctx: AuditCtx, response: Response,
                         principal: NotifyPrincipal, session: SessionDep,
                         if_match: IfMatch) -> ChannelOut:
    """Change a channel; fields left out stay. `config` replaces the whole config of the channel's kind
    (the kind cannot change); masked values read back from GET keep the stored secrets. `If-Match`
    with the ETag guards against lost updates (412)."""
    channel = await service.update(session, channel_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, channel)
    return await service.out(session, channel)


@router.delete("/notification-channels/{channel_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_channel(channel_id: uuid.UUID, audit_ctx: AuditCtx, principal: NotifyPrincipal, session: SessionDep,
                         if_match: IfMatch) -> Response:
    """Delete a channel; it leaves the default route. 409: a routing rule or escalation policy still sends to it
    (the answer names them). If-Match guards (412)."""
    await service.delete(session, channel_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.post("/notification-channels/{channel_id}/test", response_model=AttemptOut,
             responses=error_responses(401, 403, 404, 422))
async def test_channel(channel_id: uuid.UUID, request: Request, audit_ctx: AuditCtx, principal: NotifyPrincipal, session: SessionDep) -> AttemptOut:
    """Sends a real message now and answers with its log entry (status, response code, timing). The message is
    marked as a test: event `test`, `test: true` and no incident (`incident_id` null) in a webhook's JSON, "[Test]"
    in the chat and e-mail formats; it links to the web app, not to an incident."""
    row = await service.send_test(session, channel_id, request.app.state.settings.public_url, audit_ctx=audit_ctx,
                                  principal=principal)
    return AttemptOut.model_validate(row, from_attributes=True)


@router.get("/notification-log", response_model=Page[AttemptOut], responses=error_responses(401, 403, 422))
async def notification_log(principal: NotifyPrincipal, session: SessionDep, params: PageDep,
                           channel_id: uuid.UUID | None = None, incident_id: uuid.UUID | None = None,
                           user_id: uuid.UUID | None = None,
                           status: Annotated[Literal["sending", "retrying", "succeeded", "failed", "recorded",
                                                     "no_devices", "suppressed", "skipped"] | None, Query()] = None) -> Page[AttemptOut]:
    """Every delivery attempt (channel or user, event, status, response code, error, timing), newest first,
    filtered by channel, incident, user or status: where to look when a page did not arrive."""
    return await service.log_page(session, params, channel_id=channel_id, incident_id=incident_id, user_id=user_id,
                                  status=status)


# --- the caller's own preferences and feed (per user and tenant) ----------------------------------

@router.get("/users/me/notification-prefs", response_model=PrefsOut, responses=error_responses(401, 403))
async def read_prefs(response: Response, principal: Reader, session: SessionDep) -> PrefsOut:
    """Your own notification preferences in this tenant: which media (email, push, feed) page you per severity, and
    quiet hours. Defaults apply until you change them."""
    pref = await service.own_pref(session, principal)
    set_version(response, pref)
    return service.prefs_out(pref)


@router.put("/users/me/notification-prefs", response_model=PrefsOut, responses=error_responses(401, 403, 412, 422))
async def update_prefs(data: PrefsIn, audit_ctx: AuditCtx, response: Response, principal: Writer, session: SessionDep,
                       if_match: IfMatch) -> PrefsOut:
    """Set your notification preferences: severities you give replace their media (the others keep the defaults);
    quiet hours (in their own time zone)
    suppress all but critical pages to you. If-Match guards against lost updates (412)."""
    pref = await service.update_prefs(session, principal, data, if_match, audit_ctx=audit_ctx)
    set_version(response, pref)
    return service.prefs_out(pref)


@router.get("/notifications/feed", response_model=FeedPage, responses=error_responses(401, 403, 422))
async def list_feed(principal: Reader, session: SessionDep, params: PageDep, unread: bool = False) -> FeedPage:
    """Your in-app notification feed, newest first (unread=true for unread only), with the unread count."""
    return await service.feed_page(session, principal, params, unread=unread)


@router.get("/notifications/feed/unread-count", response_model=UnreadCount, responses=error_responses(401, 403))
async def unread_count(principal: Reader, session: SessionDep) -> UnreadCount:
    """How many feed items you have not read (for a badge)."""
    return UnreadCount(unread_count=await service.unread_count(session, principal))


@router.post("/notifications/feed/read-all", response_model=ReadAllOut, responses=error_responses(401, 403))
async def read_all(principal: Reader, session: SessionDep) -> ReadAllOut:
    """Mark all your feed items read; answers how many were marked. Idempotent."""
    marked, unread = await service.mark_all_read(session, principal)
    return ReadAllOut(marked=marked, unread_count=unread)


@router.post("/notifications/feed/{item_id}/read", response_model=FeedItemOut,
             responses=error_responses(401, 403, 404, 422))
async def read_one(item_id: uuid.UUID, principal: Reader, session: SessionDep) -> FeedItemOut:
    """Mark one feed item read. Idempotent. 404: not an item of yours."""
    return service.item_out(await service.mark_read(session, principal, item_id))

