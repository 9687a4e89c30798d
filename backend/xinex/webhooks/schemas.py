"""Request and response shapes of the outgoing-webhook API."""

from __future__ import annotations

import uuid
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinex.kit.outbound import HTTP_URL_SCHEMA, OutboundBlocked, check_url
from xinex.kit.types import NulFreeStr, UTCDatetime
from xinex.models.webhooks import WEBHOOK_EVENTS

EventType = Literal[
    "monitor.down", "monitor.up", "incident.created", "incident.acknowledged", "incident.resolved",
    "heartbeat.missed", "certificate.expiring", "server.offline", "server.online", "*",
]
assert set(get_args(EventType)) == {*WEBHOOK_EVENTS, "*"}


def _check_url(v: str) -> str:
    """The same syntax rules as every outbound target (kit.outbound.check_url): http(s), a host a
    request could reach, a valid port, no credentials. Where it may point is vetted on delivery."""
    v = v.strip()
    try:
        check_url(v, allow_private=True)
    except OutboundBlocked as exc:
        raise ValueError(str(exc)) from None
    return v


def _check_events(v: list[str]) -> list[str]:
    out = sorted(set(v))
    return ["*"] if "*" in out else out


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "url": "https://hooks.example.com/xinex",
            "description": "incident feed for the status page",
            "event_types": ["incident.created", "incident.resolved"],
        },
    ]})

    url: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": HTTP_URL_SCHEMA})
    description: NulFreeStr = Field(default="", max_length=500)
    event_types: list[EventType] = Field(min_length=1, max_length=20)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return _check_url(v)

    @field_validator("event_types")
    @classmethod
    def _events(cls, v: list[str]) -> list[str]:
        return _check_events(v)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"enabled": False},
        {"event_types": ["*"]},
    ]})

    url: str | None = Field(default=None, min_length=1, max_length=2000, json_schema_extra={"pattern": HTTP_URL_SCHEMA})
    description: NulFreeStr | None = Field(default=None, max_length=500)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=20)
    enabled: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_validator("event_types")
    @classmethod
    def _events(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_events(v)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"overlap_seconds": 86400},
    ]})

    overlap_seconds: int = Field(default=86400, ge=0, le=7 * 86400,
                                 description="how long the previous secret keeps signing too")


class WebhookOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "url": "https://hooks.example.com/xinex", "description": "incidents to our tracker",
        "event_types": ["incident.created", "incident.resolved"], "enabled": True, "disabled_reason": None,
        "secret_hint": "whsec_…aSw", "previous_secret_expires_at": None, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None
    secret_hint: str = Field(description="the secret's first characters; the secret itself is shown once")
    previous_secret_expires_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class WebhookWithSecret(WebhookOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "url": "https://hooks.example.com/xinex", "description": "incidents to our tracker",
        "event_types": ["incident.created", "incident.resolved"], "enabled": True, "disabled_reason": None,
        "secret_hint": "whsec_…aSw", "previous_secret_expires_at": None, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]})
    secret: str = Field(description="whsec_<base64>; shown only in this response")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "webhook_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "event_type": "incident.created",
        "payload": {"type": "incident.created",
                    "incident": {"id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                                 "title": "nightly backup is down"}},
        "status": "succeeded", "attempts": 1, "response_code": 200, "response_excerpt": "ok", "error": None,
        "duration_ms": 41250, "next_attempt_at": None, "last_attempt_at": "2026-12-04T09:30:00Z",
        "delivered_at": "2026-12-04T09:30:00Z", "is_test": False, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    webhook_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    response_code: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None
    next_attempt_at: UTCDatetime | None
    last_attempt_at: UTCDatetime | None
    delivered_at: UTCDatetime | None
    is_test: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime
