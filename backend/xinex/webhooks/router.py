"""`/webhooks`: subscriptions, secret rotation, test sends and the delivery log."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import utcnow
from xinex.models.webhooks import WebhookDelivery, WebhookSubscription
from xinex.webhooks import dispatcher, service
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
                        enabled: bool | None = None):
    """Webhook subscriptions: URLs that receive the tenant's events (incident opened, acknowledged, resolved, …)
    signed per Standard Webhooks. For pages to a chat or an endpoint of your own, a notification channel is
    usually what you want; webhooks are the event feed for integrations."""
    stmt = select(WebhookSubscription)
    if enabled is not None:
        stmt = stmt.where(WebhookSubscription.enabled.is_(enabled))
    items, total = await paginate(session, stmt.order_by(WebhookSubscription.created_at, WebhookSubscription.id),
                                  params)
    return Page.of([service.to_out(s) for s in items], total, params)


@router.post("/webhooks", status_code=201, response_model=WebhookWithSecret,
             responses=error_responses(401, 403, 409, 422))
async def create_webhook(data: WebhookCreate, request: Request, response: Response, principal: WebhooksPrincipal,
                         session: SessionDep):
    """Subscribe a URL to event types. The answer holds the signing secret, shown only once (Cache-Control:
    no-store). The URL must be http(s) and reachable under the outbound policy (422)."""
    sub = await service.create(session, principal.tenant_id, principal.user_id, data)
    audit.record(session, "webhook.created", request=request, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"event_types": sub.event_types})
    set_version(response, sub)
    response.headers["Cache-Control"] = "no-store"
    return service.to_out(sub, with_secret=True)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, responses=error_responses(401, 403, 404, 422))
async def read_webhook(webhook_id: uuid.UUID, response: Response, principal: WebhooksPrincipal, session: SessionDep):
    """One subscription (without its secret). 404: no such webhook in this tenant."""
    sub = await service.get(session, webhook_id)
    set_version(response, sub)
    return service.to_out(sub)


@router.put("/webhooks/{webhook_id}", response_model=WebhookOut, responses=error_responses(401, 403, 404, 412, 422))
async def update_webhook(webhook_id: uuid.UUID, data: WebhookUpdate, request: Request, response: Response,
                         principal: WebhooksPrincipal, session: SessionDep):
    """Change URL, description, event types or enabled; fields left out stay. If-Match guards against lost updates
    (412)."""
    sub = await service.get(session, webhook_id)
    check_if_match(request, sub)
    await service.update(session, sub, data)
    audit.record(session, "webhook.updated", request=request, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"fields": sorted(data.model_fields_set)})
    set_version(response, sub)
    return service.to_out(sub)


@router.delete("/webhooks/{webhook_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422))
async def delete_webhook(webhook_id: uuid.UUID, request: Request, principal: WebhooksPrincipal, session: SessionDep):
    """Unsubscribe. If-Match guards (412)."""
    sub = await service.get(session, webhook_id)
    check_if_match(request, sub)
    await session.delete(sub)
    audit.record(session, "webhook.deleted", request=request, principal=principal, target_type="webhook",
                 target_id=sub.id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/rotate-secret", response_model=WebhookWithSecret,
             responses=error_responses(401, 403, 404, 422))
async def rotate_secret(webhook_id: uuid.UUID, request: Request, response: Response, principal: WebhooksPrincipal,
                        session: SessionDep, data: RotateIn | None = None):
    """Issue a new signing secret, shown once; the old one keeps signing alongside for overlap_seconds so receivers
    can switch without losing a delivery."""
    data = data or RotateIn()
    sub = await service.get(session, webhook_id)
    await service.rotate(session, sub, data.overlap_seconds)
    audit.record(session, "webhook.secret_rotated", request=request, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"overlap_seconds": data.overlap_seconds})
    response.headers["Cache-Control"] = "no-store"
    return service.to_out(sub, with_secret=True)


@router.post("/webhooks/{webhook_id}/test", response_model=DeliveryOut, responses=error_responses(401, 403, 404, 422))
async def test_webhook(webhook_id: uuid.UUID, request: Request, principal: WebhooksPrincipal, session: SessionDep):
    """Signs and sends a `webhook.test` event now; answers with the delivery after the attempt."""
    sub = await service.get(session, webhook_id)
    delivery_id = uuid.uuid4()
    now = utcnow()
    delivery = WebhookDelivery(id=delivery_id, tenant_id=sub.tenant_id, webhook_id=sub.id, event_type="webhook.test",
                               is_test=True, next_attempt_at=now, payload=dispatcher.build_payload(
                                   delivery_id, "webhook.test", {"webhook_id": str(sub.id),
                                                                 "message": "Test delivery from Xinex"}, now))
    session.add(delivery)
    result = await dispatcher.send(sub, delivery, now)
    dispatcher.record_result(delivery, result, now)
    await session.flush()
    audit.record(session, "webhook.tested", request=request, principal=principal, target_type="webhook",
                 target_id=sub.id, details={"status": delivery.status, "response_code": delivery.response_code})
    return DeliveryOut.model_validate(delivery, from_attributes=True)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut],
            responses=error_responses(401, 403, 404, 422))
async def list_deliveries(webhook_id: uuid.UUID, principal: WebhooksPrincipal, session: SessionDep, params: PageDep,
                          status: Literal["pending", "sending", "retrying", "succeeded", "failed"] | None = None,
                          event_type: str | None = None):
    """Deliveries to this webhook, newest first, with their attempts and outcome."""
    await service.get(session, webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if event_type:
        stmt = stmt.where(WebhookDelivery.event_type == event_type[:80])
    stmt = stmt.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    items, total = await paginate(session, stmt, params)
    return Page.of([DeliveryOut.model_validate(d, from_attributes=True) for d in items], total, params)
