"""`/webhooks`: subscriptions, secret rotation, test sends and the delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.kit.pagination import Page, PageDep
from xinex.webhooks import service
from xinex.webhooks.schemas import (
    DeliveryOut,
    RotateIn,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(tags=["webhooks"])
WebhooksPrincipal = Annotated[Principal, Depends(Authorize("webhooks"))]


@router.get("/webhooks", response_model=Page[WebhookOut], responses=error_responses(401, 403, 422))
async def list_webhooks(principal: WebhooksPrincipal, session: SessionDep, params: PageDep,
                        enabled: bool | None = None) -> Page[WebhookOut]:
    """Webhook subscriptions: URLs that receive the tenant's events (incident opened, acknowledged, resolved, …)
    signed per Standard Webhooks. For pages to a chat or an endpoint of your own, a notification channel is
    usually what you want; webhooks are the event feed for integrations."""
    return await service.webhooks_page(session, params, enabled=enabled)


@router.post("/webhooks", status_code=201, response_model=WebhookWithSecret,
             responses=error_responses(401, 403, 409, 422))
async def create_webhook(data: WebhookCreate, audit_ctx: AuditCtx, response: Response, principal: WebhooksPrincipal,
                         session: SessionDep) -> WebhookOut:
    """Subscribe a URL to event types. The answer holds the signing secret, shown only once (Cache-Control:
    no-store). The URL must be http(s) and reachable under the outbound policy (422)."""
    sub = await service.create(session, principal.tenant_id, principal.user_id, data, audit_ctx=audit_ctx,
                               principal=principal)
    set_version(response, sub)
    response.headers["Cache-Control"] = "no-store"
    return service.to_out(sub, with_secret=True)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, responses=error_responses(401, 403, 404, 422))
async def read_webhook(webhook_id: uuid.UUID, response: Response, principal: WebhooksPrincipal, session: SessionDep) -> WebhookOut:
    """One subscription (without its secret). 404: no such webhook in this tenant."""
    sub = await service.get(session, webhook_id)
    set_version(response, sub)
    return service.to_out(sub)


@router.put("/webhooks/{webhook_id}", response_model=WebhookOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_webhook(webhook_id: uuid.UUID, data: WebhookUpdate, audit_ctx: AuditCtx, response: Response,
                         principal: WebhooksPrincipal, session: SessionDep,
                         if_match: IfMatch) -> WebhookOut:
    """Change URL, description, event types or enabled; fields left out stay. If-Match guards against lost updates
    (412)."""
    sub = await service.update(session, webhook_id, data, if_match, audit_ctx=audit_ctx, principal=principal)
    set_version(response, sub)
    return service.to_out(sub)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_webhook(webhook_id: uuid.UUID, audit_ctx: AuditCtx, principal: WebhooksPrincipal, session: SessionDep,
                         if_match: IfMatch) -> Response:
    """Unsubscribe. If-Match guards (412)."""
    await service.delete(session, webhook_id, if_match, audit_ctx=audit_ctx, principal=principal)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=WebhookWithSecret,
             responses=error_responses(401, 403, 404, 422))
async def rotate_secret(webhook_id: uuid.UUID, audit_ctx: AuditCtx, response: Response, principal: WebhooksPrincipal,
                        session: SessionDep, data: RotateIn | None = None) -> WebhookOut:
    """Issue a new signing secret, shown once; the old one keeps signing alongside for overlap_seconds so receivers
    can switch without losing a delivery."""
    data = data or RotateIn()
    sub = await service.rotate(session, webhook_id, data.overlap_seconds, audit_ctx=audit_ctx, principal=principal)
    response.headers["Cache-Control"] = "no-store"
    return service.to_out(sub, with_secret=True)


@router.post("/webhooks/{webhook_id}/test", response_model=DeliveryOut, responses=error_responses(401, 403, 404, 422))
async def test_webhook(webhook_id: uuid.UUID, audit_ctx: AuditCtx, principal: WebhooksPrincipal, session: SessionDep) -> DeliveryOut:
    """Signs and sends a `webhook.test` event now; answers with the delivery after the attempt."""
    delivery = await service.send_test(session, webhook_id, audit_ctx=audit_ctx, principal=principal)
    return DeliveryOut.model_validate(delivery, from_attributes=True)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut],
            responses=error_responses(401, 403, 404, 422))
async def list_deliveries(webhook_id: uuid.UUID, principal: WebhooksPrincipal, session: SessionDep, params: PageDep,
                          status: Literal["pending", "sending", "retrying", "succeeded", "failed"] | None = None,
                          event_type: str | None = None) -> Page[DeliveryOut]:
    """Deliveries to this webhook, newest first, with their attempts and outcome."""
    return await service.deliveries_page(session, webhook_id, params, status=status, event_type=event_type)
