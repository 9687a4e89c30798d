"""`/notification-channels` CRUD and test sends, and `/notification-log`."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.openapi import typed_body
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.notify import service
from xinex.notify.default_route import default_channel_ids
from xinex.notify.message import NotificationMessage
from xinex.notify.schemas import (
    CHANNEL_EXAMPLES,
    AttemptOut,
    ChannelCreate,
    ChannelCreateDoc,
    ChannelOut,
    ChannelUpdate,
    ChannelUpdateDoc,
)
from xinex.notify.send import send_to_channel

router = APIRouter(tags=["notifications"])
NotifyPrincipal = Annotated[Principal, Depends(Authorize("notifications"))]
KindFilter = Literal["slack", "discord", "teams", "webhook", "email", "push"]


@router.get("/notification-channels", response_model=Page[ChannelOut], responses=error_responses(401, 403, 422))
async def list_channels(principal: NotifyPrincipal, session: SessionDep, params: PageDep,
                        kind: KindFilter | None = None):
    """Notification channels, by name, filtered by kind. Secrets in config (webhook URLs, header values, signing
    secrets) are masked; `default` says whether the channel is on the default route."""
    stmt = select(NotificationChannel)
    if kind:
        stmt = stmt.where(NotificationChannel.kind == kind)
    items, total = await paginate(session, stmt.order_by(NotificationChannel.name, NotificationChannel.id), params)
    defaults = await default_channel_ids(session)
    return Page.of([service.to_out(c, defaults) for c in items], total, params)


@router.post("/notification-channels", status_code=201, response_model=ChannelOut,
             responses=error_responses(401, 403, 409, 422), openapi_extra=typed_body(ChannelCreateDoc, CHANNEL_EXAMPLES))
async def create_channel(data: ChannelCreate, request: Request, response: Response, principal: NotifyPrincipal,
                         session: SessionDep):
    """Create a channel: where pages go (Slack, Discord, Teams, a signed webhook, e-mail addresses, or
    members' phones). `kind` decides the shape of `config`. A URL that can never be reached under the
    server's outbound policy is refused here (422), not at the first page. With `default: true` (the
    default) the channel joins the default route and gets every alert no routing rule matched.
    At most 200 channels per tenant (409)."""
    channel = await service.create(session, principal.tenant_id, principal.user_id, data)
    audit.record(session, "notification_channel.created", request=request, principal=principal,
                 target_type="notification_channel", target_id=channel.id,
                 details={"name": channel.name, "kind": channel.kind, "default": data.default})
    set_version(response, channel)
    return service.to_out(channel, await default_channel_ids(session))


@router.get("/notification-channels/{channel_id}", response_model=ChannelOut,
            responses=error_responses(401, 403, 404, 422))
async def read_channel(channel_id: uuid.UUID, response: Response, principal: NotifyPrincipal, session: SessionDep):
    """One channel, secrets masked. 404: no such channel in this tenant."""
    channel = await service.get(session, channel_id)
    set_version(response, channel)
    return service.to_out(channel, await default_channel_ids(session))


@router.put("/notification-channels/{channel_id}", response_model=ChannelOut,
            responses=error_responses(401, 403, 404, 412, 422),
            openapi_extra=typed_body(ChannelUpdateDoc, {"rename": {"name": "#ops-eu"},
                                                        "leave the default route": {"default": False}}))
async def update_channel(channel_id: uuid.UUID, data: ChannelUpdate, request: Request, response: Response,
                         principal: NotifyPrincipal, session: SessionDep):
    """Change a channel; fields left out stay. `config` replaces the whole config of the channel's kind
    (the kind cannot change); masked values read back from GET keep the stored secrets. `If-Match`
    with the ETag guards against lost updates (412)."""
    channel = await service.get(session, channel_id)
    check_if_match(request, channel)
    await service.update(session, channel, data)
    audit.record(session, "notification_channel.updated", request=request, principal=principal,
                 target_type="notification_channel", target_id=channel.id,
                 details={"fields": sorted(data.model_fields_set)})
    set_version(response, channel)
    return service.to_out(channel, await default_channel_ids(session))


@router.delete("/notification-channels/{channel_id}", status_code=204,
               responses=error_responses(401, 403, 404, 409, 412, 422))
async def delete_channel(channel_id: uuid.UUID, request: Request, principal: NotifyPrincipal, session: SessionDep):
    """Delete a channel; it leaves the default route. 409: a routing rule or escalation policy still sends to it
    (the answer names them). If-Match guards (412)."""
    channel = await service.get(session, channel_id)
    check_if_match(request, channel)
    await service.delete(session, channel)
    audit.record(session, "notification_channel.deleted", request=request, principal=principal,
                 target_type="notification_channel", target_id=channel.id, details={"name": channel.name})
    return Response(status_code=204)


@router.post("/notification-channels/{channel_id}/test", response_model=AttemptOut,
             responses=error_responses(401, 403, 404, 422))
async def test_channel(channel_id: uuid.UUID, request: Request, principal: NotifyPrincipal, session: SessionDep):
    """Sends a real message now and answers with its log entry (status, response code, timing). The message is
    marked as a test: event `test`, `test: true` and no incident (`incident_id` null) in a webhook's JSON, "[Test]"
    in the chat and e-mail formats; it links to the web app, not to an incident."""
    channel = await service.get(session, channel_id)
    message = NotificationMessage(
        tenant_id=principal.tenant_id, event="test", title=f"Test notification for {channel.name}",
        body="This is a test from Xinex: if you can read it, the channel works. No incident is behind it.",
        severity="info", incident_id=None, url=request.app.state.settings.public_url.rstrip("/") + "/",
        dedup_key=f"test:{uuid.uuid4()}", test=True)
    row = await send_to_channel(session, channel.id, message)
    audit.record(session, "notification_channel.tested", request=request, principal=principal,
                 target_type="notification_channel", target_id=channel.id, details={"status": row.status})
    return AttemptOut.model_validate(row, from_attributes=True)


@router.get("/notification-log", response_model=Page[AttemptOut], responses=error_responses(401, 403, 422))
async def notification_log(principal: NotifyPrincipal, session: SessionDep, params: PageDep,
                           channel_id: uuid.UUID | None = None, incident_id: uuid.UUID | None = None,
                           user_id: uuid.UUID | None = None,
                           status: Annotated[Literal["sending", "retrying", "succeeded", "failed", "recorded",
                                                     "no_devices", "suppressed", "skipped"] | None, Query()] = None):
    """Every delivery attempt (channel or user, event, status, response code, error, timing), newest first,
    filtered by channel, incident, user or status: where to look when a page did not arrive."""
    stmt = select(NotificationAttempt)
    if channel_id:
        stmt = stmt.where(NotificationAttempt.channel_id == channel_id)
    if incident_id:
        stmt = stmt.where(NotificationAttempt.incident_id == incident_id)
    if user_id:
        stmt = stmt.where(NotificationAttempt.user_id == user_id)
    if status:
        stmt = stmt.where(NotificationAttempt.status == status)
    stmt = stmt.order_by(NotificationAttempt.created_at.desc(), NotificationAttempt.id)
    items, total = await paginate(session, stmt, params)
    return Page.of([AttemptOut.model_validate(r, from_attributes=True) for r in items], total, params)
