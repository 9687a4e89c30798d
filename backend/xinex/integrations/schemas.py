"""Integration request/response shapes, and the answers of the compatible endpoints."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinex.kit.fields import NonBlankStr, Tags
from xinex.kit.types import NulFreeStr, UTCDatetime

Kind = Literal["alertmanager", "grafana", "pagerduty", "opsgenie", "webhook"]
Severity = Literal["critical", "error", "warning", "info"]
KINDS: tuple[str, ...] = ("alertmanager", "grafana", "pagerduty", "opsgenie", "webhook")

MAPPING_DESCRIPTION = (
    "generic webhooks only: JMESPath expressions evaluated on the JSON body — title (required), dedup_key, "
    "severity, resolve (truthy: resolve), acknowledge, source, service, labels (an object), details, links, and "
    "alerts (splits the body into items; the others then apply to each item)")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Routing(_In):
    service: NulFreeStr | None = Field(default=None, max_length=255, description=(
        "default routing: the service every alert of this integration carries (routing rules and silences "
        "match it), unless the alert names its own service label"))
    tags: Tags = Field(default_factory=list, description=(
        "default routing: tags added to every alert (each label also becomes a tag 'name=value')"))
    default_severity: Severity = Field(default="critical", description="severity when the sender gives none "
                                                                       "or one that maps to nothing")
    severity_map: dict[str, Severity] = Field(default_factory=dict, max_length=50, description=(
        "the sender's severity word (label 'severity', PagerDuty severity, Opsgenie priority; case-insensitive) "
        "-> ours; common words (critical, high, warning, P1-P5, …) map without it"))
    mapping: dict[str, str] = Field(default_factory=dict, max_length=20, description=MAPPING_DESCRIPTION)
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000, description=(
        "requests per minute this integration accepts (429 past it); null: the server's default"))
    enabled: bool = True

    @field_validator("severity_map")
    @classmethod
    def _lower(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.strip().lower(): v for k, v in value.items() if k.strip()}


class IntegrationCreate(_Routing):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Prometheus production", "kind": "alertmanager", "service": "checkout",
         "tags": ["prod"], "severity_map": {"page": "critical", "ticket": "warning"}},
        {"name": "Sentry via webhook", "kind": "webhook",
         "mapping": {"title": "data.issue.title", "dedup_key": "data.issue.id",
                     "resolve": "action == 'resolved'", "severity": "data.issue.level"}},
    ]})

    name: NonBlankStr = Field(max_length=200)
    kind: Kind = Field(description="alertmanager | grafana | pagerduty (Events API v2) | opsgenie (Alert API) | "
                                   "webhook (generic JSON with a JMESPath mapping)")


class IntegrationUpdate(_Routing):
    """Fields left out keep their value (PATCH semantics over PUT)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Prometheus production", "service": "payments", "enabled": True}]})

    name: NonBlankStr | None = Field(default=None, max_length=200)
    default_severity: Severity | None = None  # type: ignore[assignment]
    enabled: bool | None = None  # type: ignore[assignment]


class IntegrationOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "Alertmanager prod", "kind": "alertmanager", "enabled": True, "key_hint": "9f3a",
        "key_rotated_at": "2026-12-01T08:00:00Z", "service": "checkout", "tags": ["prod"],
        "default_severity": "error", "severity_map": {"critical": "critical", "warning": "warning"},
        "mapping": {}, "rate_limit_per_minute": 600, "last_event_at": "2026-12-04T09:30:00Z",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    enabled: bool
    key_hint: str = Field(description="the secret's last four characters")
    key_rotated_at: UTCDatetime
    service: str | None
    tags: list[str]
    default_severity: str
    severity_map: dict[str, str]
    mapping: dict[str, str]
    rate_limit_per_minute: int | None
    last_event_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class IntegrationSecretOut(IntegrationOut):
    """Answered once, at creation and rotation: the secret is not stored, only its hash."""
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "Alertmanager prod", "kind": "alertmanager", "enabled": True, "key_hint": "9f3a",
        "key_rotated_at": "2026-12-01T08:00:00Z", "service": "checkout", "tags": ["prod"],
        "default_severity": "error", "severity_map": {"critical": "critical", "warning": "warning"},
        "mapping": {}, "rate_limit_per_minute": 600, "last_event_at": "2026-12-04T09:30:00Z",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "key": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c9f3a",
        "ingestion_url": "https://xinex.example.com/api/v1/integrations/alertmanager/hooks/0b1c2d3e4f5a6b7c8d9e0f1a2b3c9f3a",
        "sender_config": {"receivers": [{"name": "xinex", "webhook_configs": [{
            "url": "https://xinex.example.com/api/v1/integrations/alertmanager/hooks/0b1c2d3e4f5a6b7c8d9e0f1a2b3c9f3a",
            "send_resolved": True}]}]}}]})

    key: str = Field(description="the secret: the routing key (PagerDuty), GenieKey (Opsgenie) or the "
                                 "ingestion URL's last segment; shown only now")
    ingestion_url: str = Field(description="where the sender posts (the key is part of it for hooks)")
    sender_config: dict[str, Any] = Field(description="what to paste into the sender")


class TestRequest(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"payload": {"action": "triggered", "data": {"issue": {"id": "42", "title": "TypeError in checkout"}}},
         "mapping": {"title": "data.issue.title", "dedup_key": "data.issue.id"}}]})

    payload: Any = Field(description="a sample body, as the sender would post it")
    mapping: dict[str, str] | None = Field(default=None, max_length=20, description=(
        "try another mapping without saving it (generic webhooks); default: the integration's own"))


class TestAlert(BaseModel):
    action: str
    dedup_key: str
    summary: str | None
    severity: str
    source: str | None
    service: str | None
    tags: list[str]
    labels: dict[str, str]
    details: dict[str, Any]
    links: list[dict[str, str]]


class TestResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "ok": True, "errors": [],
        "alerts": [{"action": "trigger", "dedup_key": "42", "summary": "TypeError in checkout",
                    "severity": "error", "source": "sentry", "service": None, "tags": [], "labels": {},
                    "details": {}, "links": []}]}]})
    ok: bool
    errors: list[str] = Field(description="what is wrong with the payload or the mapping, each naming the field")
    alerts: list[TestAlert] = Field(description="what the payload becomes: nothing is stored or paged")


# --- the compatible endpoints' own answers -----------------------------------------------------------

class PagerDutyChangeAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "success", "message": "Change event processed"}]})

    status: str
    message: str


class PagerDutyAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "success", "message": "Event processed", "dedup_key": "srv01/HTTP"}]})

    status: str
    message: str
    dedup_key: str


class PagerDutyInvalid(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "invalid event", "message": "Event object is invalid",
         "errors": ["'payload.summary' is missing or blank"]}]})

    status: str
    message: str
    errors: list[str]


class OpsgenieAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"result": "Request will be processed", "took": 0.004, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}]})

    result: str
    took: float
    requestId: str  # noqa: N815 - Opsgenie's own field name


class OpsgenieError(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "Message can not be empty.", "took": 0.001, "requestId": "9ae63dd7-ed00-4c81-86f0-c4ffd33142c9"}]})

    message: str
    took: float
    requestId: str  # noqa: N815


class HookAccepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"status": "accepted", "alerts": 2, "dedup_keys": ["3fa1c2b4d5e6f708", "9b8c7d6e5f4a3b2c"]}]})

    status: str
    alerts: int
    dedup_keys: list[str]


# --- the importer ---------------------------------------------------------------------------------------

class ImportRequest(_In):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"source": "pagerduty", "url": "https://api.pagerduty.com", "token": "y_NbAkKc66ryYTWUXYEu",
         "dry_run": True}]})

    source: Literal["pagerduty", "opsgenie", "grafana-oncall"] = Field(description="where from")
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://\S+$",
                     description="the source's REST API base, e.g. https://api.pagerduty.com or "
                                 "https://api.opsgenie.com")
    token: str = Field(min_length=1, max_length=500, description="a read-only REST API key of the source; "
                                                                 "used for this request only, never stored")
    dry_run: bool = Field(default=False, description="plan only: every step runs and is rolled back, no "
                                                     "invitation is sent")


class ImportItem(BaseModel):
    type: str
    external_id: str
    name: str
    action: str = Field(description="matched | invited | create | update")
    object_id: str | None
    detail: str
    key: str | None = Field(description="a new integration's routing key (shown in this answer only)")


class ImportProblem(BaseModel):
    type: str
    external_id: str
    name: str
    why: str


class ImportReportOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "source": "pagerduty", "dry_run": True,
        "summary": {"user": {"matched": 2, "invited": 1}, "service": {"create": 3}},
        "items": [{"type": "service", "external_id": "PX7Y2QZ", "name": "checkout api", "action": "create",
                   "object_id": None, "detail": "integration pagerduty", "key": None}],
        "problems": [{"type": "escalation_policy", "external_id": "P9K3LMN", "name": "legacy",
                      "why": "targets a team, which Xinex does not model"}]}]})
    source: str
    dry_run: bool
    summary: dict[str, dict[str, int]] = Field(description="per type, how many of each action")
    items: list[ImportItem]
    problems: list[ImportProblem] = Field(description="every source object (or part) that could not be mapped, "
                                                      "and why")
