"""Integration use cases: manage integrations (audited), and turn inbound alerts into outbox events.

An inbound alert becomes one outbox event (`integration.triggered` / `.acknowledged` /
`.resolved`, source_type `integration`, source_id the integration) in the request's own
transaction, so it is durable before the sender's 2xx, and from there the incident engine does
what it does for monitors and heartbeats: dedup by key into one open incident, routing rules,
silences and maintenance, correlation, escalation, channels, the feed and webhooks. The event's
dedup key is the integration plus the sender's key, so a retried request appends to the incident
it opened instead of opening another, and two integrations never share incidents.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.annotations import service as annotation_service
from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.events.outbox import event_row
from xinex.identity.principal import Principal
from xinex.integrations import formats
from xinex.integrations.formats import ChangeEvent, InboundAlert, PayloadError
from xinex.integrations.repository import IntegrationRepository, forget_keys, key_hash
from xinex.integrations.schemas import (
    IntegrationCreate,
    IntegrationOut,
    IntegrationSecretOut,
    IntegrationUpdate,
    TestAlert,
    TestResult,
)
from xinex.kit.db import Database, after_commit
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.integrations import Integration

SOURCE_TYPE = "integration"
EVENT_TYPES = {"trigger": "integration.triggered", "acknowledge": "integration.acknowledged",
               "resolve": "integration.resolved"}
MAX_TAGS = 100
LAST_EVENT_EVERY = timedelta(seconds=60)  # last_event_at is refreshed at most this often (a row write)
# The outbox dedup key is at most 200 characters: "integration:<uuid>:" leaves 151 for the sender's key.
MAX_RAW_KEY = 151


def _invalid(fields: dict[str, str]) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": fields})


def new_key() -> str:
    """32 hexadecimal characters (128 bits): the length PagerDuty's clients expect of a routing key."""
    return secrets.token_hex(16)


# --- management ---------------------------------------------------------------------------------

def to_out(i: Integration) -> IntegrationOut:
    return IntegrationOut(id=i.id, tenant_id=i.tenant_id, name=i.name, kind=i.kind, enabled=i.enabled,
                          key_hint=i.key_hint, key_rotated_at=i.key_rotated_at, service=i.service,
                          tags=list(i.tags or []), default_severity=i.default_severity,
                          severity_map=dict(i.severity_map or {}), mapping=dict(i.mapping or {}),
                          rate_limit_per_minute=i.rate_limit_per_minute, last_event_at=i.last_event_at,
                          created_at=i.created_at, updated_at=i.updated_at)


def sender_config(kind: str, key: str, public_url: str) -> tuple[str, dict[str, Any]]:
    """The URL the sender posts to and what to paste into it (docs/integrations.md)."""
    base = public_url.rstrip("/")
    if kind == "pagerduty":
        return f"{base}/v2/enqueue", {"events_api_url": f"{base}/v2/enqueue", "routing_key": key,
                                      "alertmanager": {"pagerduty_configs": [{"routing_key": key,
                                                                              "url": f"{base}/v2/enqueue"}]}}
    if kind == "opsgenie":
        return f"{base}/v2/alerts", {"api_url": base, "api_key": key, "authorization": f"GenieKey {key}",
                                     "alertmanager": {"opsgenie_configs": [{"api_key": key, "api_url": f"{base}/"}]}}
    url = f"{base}/hooks/{key}"
    if kind == "alertmanager":
        return url, {"webhook_configs": [{"url": url, "send_resolved": True}]}
    if kind == "grafana":
        return url, {"contact_point": {"type": "webhook", "url": url, "httpMethod": "POST"}}
    return url, {"url": url, "method": "POST", "content_type": "application/json"}


def secret_out(i: Integration, key: str, public_url: str) -> IntegrationSecretOut:
    url, config = sender_config(i.kind, key, public_url)
    return IntegrationSecretOut(**to_out(i).model_dump(), key=key, ingestion_url=url, sender_config=config)


def _check_mapping(kind: str, mapping: dict[str, str]) -> None:
    if kind != "webhook":
        if mapping:
            raise _invalid({"mapping": "only generic webhooks (kind webhook) take a mapping"})
        return
    problems = formats.check_mapping(mapping)
    if problems:
        raise _invalid({f"mapping.{k}": v for k, v in problems.items()})


def _forget_keys(session: AsyncSession) -> None:
    """The inbound path caches key → integration (integrations/writer.py): drop it now and once this commits."""
    async def again() -> None:
        forget_keys()

    forget_keys()
    after_commit(session, again)


def _set_key(i: Integration, key: str) -> None:
    i.key_hash, i.key_hint, i.key_rotated_at = key_hash(key), key[-4:], utcnow()


async def create(session: AsyncSession, principal: Principal, audit_ctx: AuditContext | None, data: IntegrationCreate,
                 public_url: str) -> IntegrationSecretOut:
    _check_mapping(data.kind, data.mapping)
    if principal.tenant_id is None:
        raise AppError("FORBIDDEN", "Integrations belong to a tenant: use a credential of one")
    key = new_key()
    i = Integration(tenant_id=principal.tenant_id, name=data.name, kind=data.kind, enabled=data.enabled,
                    service=data.service, tags=list(data.tags), default_severity=data.default_severity,
                    severity_map=dict(data.severity_map), mapping=dict(data.mapping),
                    rate_limit_per_minute=data.rate_limit_per_minute, key_hash="", key_hint="",
                    key_rotated_at=utcnow())
    _set_key(i, key)
    session.add(i)
    await session.flush()
    audit.record(session, "integration.created", context=audit_ctx, principal=principal, target_type="integration",
                 target_id=i.id, details={"name": i.name, "kind": i.kind})
    return secret_out(i, key, public_url)


async def update(session: AsyncSession, principal: Principal, audit_ctx: AuditContext | None, integration_id: uuid.UUID,
                 data: IntegrationUpdate, if_match: str | None) -> Integration:
    """If-Match (412 when stale) → change the fields given → audit."""
    fields = data.model_fields_set

    def audited(i: Integration) -> None:
        audit.record(session, "integration.updated", context=audit_ctx, principal=principal,
                     target_type="integration", target_id=i.id, details={"fields": sorted(fields)})

    _forget_keys(session)
    return await IntegrationRepository(session).update_checked(
        integration_id, if_match, lambda i: _apply(i, data, fields), audit=audited, touch=True, refresh=True)


def _apply(i: Integration, data: IntegrationUpdate, fields: set[str]) -> None:
    if "mapping" in fields:
        _check_mapping(i.kind, data.mapping)
        i.mapping = dict(data.mapping)
    if "name" in fields and data.name is not None:
        i.name = data.name
    if "enabled" in fields and data.enabled is not None:
        i.enabled = data.enabled
    if "default_severity" in fields and data.default_severity is not None:
        i.default_severity = data.default_severity
    if "service" in fields:
        i.service = data.service
    if "tags" in fields:
        i.tags = list(data.tags)
    if "severity_map" in fields:
        i.severity_map = dict(data.severity_map)
    if "rate_limit_per_minute" in fields:
        i.rate_limit_per_minute = data.rate_limit_per_minute


async def rotate(session: AsyncSession, principal: Principal, audit_ctx: AuditContext | None, integration_id: uuid.UUID,
                 if_match: str | None, public_url: str) -> IntegrationSecretOut:
    """A new key; the old one stops working when this commits. If-Match guards (412)."""
    key = new_key()

    def audited(i: Integration) -> None:
        audit.record(session, "integration.key_rotated", context=audit_ctx, principal=principal,
                     target_type="integration", target_id=i.id, details={"name": i.name})

    _forget_keys(session)
    i = await IntegrationRepository(session).update_checked(integration_id, if_match, lambda i: _set_key(i, key),
                                                           audit=audited, touch=True, refresh=True)
    return secret_out(i, key, public_url)


async def delete(session: AsyncSession, principal: Principal, audit_ctx: AuditContext | None, integration_id: uuid.UUID,
                 if_match: str | None) -> None:
    def audited(i: Integration) -> None:
        audit.record(session, "integration.deleted", context=audit_ctx, principal=principal,
                     target_type="integration", target_id=i.id, details={"name": i.name, "kind": i.kind})

    await IntegrationRepository(session).delete_checked(integration_id, if_match, audit=audited)
    _forget_keys(session)


# --- inbound alerts -------------------------------------------------------------------------------

def outbox_key(i: Integration, key: str) -> str:
    raw = key if len(key) <= MAX_RAW_KEY else "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return f"{SOURCE_TYPE}:{i.id}:{raw}"


@dataclass
class Shaped:
    """An inbound alert with the integration's defaults applied: what routing and the incident see."""

    alert: InboundAlert
    severity: str
    service: str | None
    tags: list[str]

    def payload(self, i: Integration) -> dict[str, Any]:
        a = self.alert
        summary = a.summary or f"{i.name}: {a.key}"
        return {"name": i.name, "summary": summary, "tags": self.tags, "host": a.source, "service": self.service,
                "labels": a.labels, "details": a.details, "links": a.links, "images": a.images,
                "dedup_key": a.key, "sender_severity": a.severity, "timestamp": a.sender_time,
                "integration": {"id": str(i.id), "kind": i.kind, "name": i.name}}

    def preview(self) -> TestAlert:
        a = self.alert
        return TestAlert(action=a.action, dedup_key=a.key, summary=a.summary, severity=self.severity,
                         source=a.source, service=self.service, tags=self.tags, labels=a.labels, details=a.details,
                         links=a.links)


def shape(i: Integration, alert: InboundAlert) -> Shaped:
    severity = formats.map_severity(alert.severity, dict(i.severity_map or {}), i.default_severity)
    label_tags = [f"{k}={v}"[:200] for k, v in alert.labels.items() if v != ""]
    tags: list[str] = []
    for tag in [*(i.tags or []), *alert.tags, *label_tags]:
        if tag not in tags:
            tags.append(tag)
    return Shaped(alert, severity, alert.labels.get("service") or i.service, tags[:MAX_TAGS])


def alert_rows(i: Integration, alerts: list[InboundAlert], now: datetime) -> list[dict[str, Any]]:
    """One outbox event row per alert (each names its tenant), for `events.outbox.insert_rows`."""
    rows = []
    for alert in alerts:
        shaped = shape(i, alert)
        rows.append(event_row(EVENT_TYPES[alert.action], source_type=SOURCE_TYPE, source_id=i.id,
                              tenant_id=i.tenant_id, dedup_key=outbox_key(i, alert.key), severity=shaped.severity,
                              payload=shaped.payload(i), occurred_at=now, created_at=now))
    return rows


async def record_change(db: Database, i: Integration, change: ChangeEvent) -> uuid.UUID:
    """A PagerDuty change event becomes an annotation of the integration's tenant (tagged `change`, the
    integration and the source), committed before the 202: deploys show on charts next to the incidents."""
    lines = [change.summary]
    lines += [f"{link.get('text') or link['href']}: {link['href']}" for link in change.links if link.get("href")]
    if change.details:
        lines.append(json.dumps(change.details, ensure_ascii=False, sort_keys=True)[:4000])
    tags = ["change", f"integration={i.name}"[:200]] + ([f"source={change.source}"[:200]] if change.source else [])
    async with db.session(tenant_id=i.tenant_id) as session:
        a = annotation_service.record_change(session, i.tenant_id, name=change.summary, description="\n".join(lines),
                                      at=change.at or utcnow(), tags=tags)
    return a.id


def last_event_due(i: Integration, now: datetime) -> bool:
    """True (and noted on `i`) when the integration's last_event_at is due a write: at most every
    LAST_EVENT_EVERY, so a busy integration's row is not rewritten by every event."""
    if i.last_event_at is None or now - i.last_event_at >= LAST_EVENT_EVERY:
        i.last_event_at = now
        return True
    return False


def parse_hook(i: Integration, body: Any) -> list[InboundAlert]:
    """The alerts of a body posted to /hooks/{key}, read the way the integration's kind says."""
    if i.kind == "alertmanager":
        return formats.alertmanager_group(body)
    if i.kind == "grafana":
        return formats.alertmanager_group(body, grafana=True)
    if i.kind == "webhook":
        return formats.webhook_alerts(body, dict(i.mapping or {}))
    raise PayloadError([f"this integration is of kind {i.kind}: post to "
                        + ("/v2/enqueue" if i.kind == "pagerduty" else "/v2/alerts")])


def test(i: Integration, payload: Any, mapping: dict[str, str] | None) -> TestResult:
    """What a sample payload becomes (nothing is stored): the test console of every kind."""
    try:
        if i.kind == "webhook":
            use = dict(i.mapping or {}) if mapping is None else mapping
            problems = formats.check_mapping(use)
            if problems:
                return TestResult(ok=False, errors=[f"mapping.{k}: {v}" for k, v in problems.items()], alerts=[])
            alerts = formats.webhook_alerts(payload, use)
        elif mapping is not None:
            return TestResult(ok=False, errors=["mapping: only generic webhooks (kind webhook) take a mapping"],
                              alerts=[])
        elif i.kind == "pagerduty":
            sample = dict(payload) if isinstance(payload, dict) else payload
            if isinstance(sample, dict):
                sample.setdefault("routing_key", "0" * 32)  # the console needs no real key
            alerts = [formats.pagerduty_event(sample)[1]]
        elif i.kind == "opsgenie":
            alerts = [formats.opsgenie_create(payload)]
        else:
            alerts = parse_hook(i, payload)
    except PayloadError as exc:
        return TestResult(ok=False, errors=exc.errors, alerts=[])
    return TestResult(ok=True, errors=[], alerts=[shape(i, a).preview() for a in alerts])


def rate_limit_text(i: Integration, default_per_minute: int) -> str:
    return f"{i.rate_limit_per_minute or default_per_minute}/minute"


