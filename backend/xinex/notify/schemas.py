"""Request and response shapes of the notification API."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from xinex.kit.fields import NonBlankStr
from xinex.kit.outbound import HTTP_URL_SCHEMA
from xinex.kit.pagination import Page
from xinex.kit.types import UTCDatetime
from xinex.notify.channels.push import DEVICE_KEY
from xinex.notify.message import SEVERITIES
from xinex.notify.prefs import USER_MEDIA

ChannelKind = Literal["slack", "discord", "teams", "webhook", "email", "push"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _storable(value, depth: int = 0) -> bool:
    """PostgreSQL's JSONB refuses NUL and lone surrogates in keys and values (a 500 at the INSERT)."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, dict):
        return depth < 10 and all(_storable(k, depth + 1) and _storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return depth < 10 and all(_storable(v, depth + 1) for v in value)
    return True


def _config(value: dict | None) -> dict | None:
    if value is not None and not _storable(value):
        raise ValueError("must not contain NUL characters, lone surrogates or nest deeper than 10 levels")
    return value


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlankStr = Field(min_length=1, max_length=200)
    kind: ChannelKind
    config: dict = Field(default_factory=dict)
    enabled: bool = True
    default: bool = Field(default=True, description=(
        "on the default route: gets every alert no routing rule matched (false: only what rules and "
        "escalation policies send it)"))

    _check_config = field_validator("config")(classmethod(lambda cls, v: _config(v)))


class ChannelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlankStr | None = Field(default=None, min_length=1, max_length=200)
    config: dict | None = None
    enabled: bool | None = None
    default: bool | None = Field(default=None, description="join (true) or leave (false) the default route")

    _check_config = field_validator("config")(classmethod(lambda cls, v: _config(v)))


class ChannelOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "ops webhook", "kind": "webhook",
        "config": {"url": "https://hooks.example.com/****a1b2", "headers": {"X-Team": "****"}},
        "enabled": True, "default": True, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    config: dict = Field(description="secrets (webhook URLs, header values) are masked")
    enabled: bool
    default: bool = Field(description="on the default route (the default route's channel_ids hold the same)")
    created_at: UTCDatetime
    updated_at: UTCDatetime


class AttemptDevice(BaseModel):
    """The phone a push attempt was for (kind `push`, one row per device): never its token, only its end."""

    id: uuid.UUID = Field(description="the push token's id (/api/v1/push-tokens), kept after the token is removed")
    platform: str = Field(description="ios | android")
    name: str | None = Field(description="the device name the app registered")
    token_end: str = Field(description="the token's last 6 characters, to tell two phones apart")


class AttemptOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "dedup_key": "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
        "channel_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "user_id": None, "kind": "webhook",
        "event": "incident.triggered", "severity": "critical",
        "incident_id": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b", "title": "[CRITICAL] nightly backup is down",
        "status": "succeeded", "attempts": 1, "response_code": 200, "error": None, "duration_ms": 120,
        "last_attempt_at": "2026-12-04T09:30:00Z", "next_attempt_at": None,
        "delivered_at": "2026-12-04T09:30:00Z", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z", "device": None}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    dedup_key: str
    channel_id: uuid.UUID | None
    user_id: uuid.UUID | None
    kind: str
    event: str
    severity: str
    incident_id: uuid.UUID | None
    title: str
    status: str
    attempts: int
    response_code: int | None
    error: str | None
    duration_ms: int | None
    last_attempt_at: UTCDatetime | None
    next_attempt_at: UTCDatetime | None
    delivered_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime
    device: AttemptDevice | None = Field(default=None, description="a push attempt to one device: which one")

    @classmethod
    def of(cls, row: Any) -> AttemptOut:
        out = cls.model_validate(row, from_attributes=True)
        stored = row.message if isinstance(row.message, dict) else {}
        if isinstance(stored.get(DEVICE_KEY), dict):
            out.device = AttemptDevice.model_validate(stored[DEVICE_KEY])
        return out


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    start: str = Field(description="local time HH:MM", json_schema_extra={"pattern": _HHMM.pattern})
    end: str = Field(description="local time HH:MM", json_schema_extra={"pattern": _HHMM.pattern})
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError("must be HH:MM (24-hour)")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
            raise ValueError("unknown IANA timezone") from None
        return v


Medium = Literal["email", "push", "feed"]


class PrefsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "rules": {"critical": ["push", "email", "feed"], "warning": ["feed"]},
            "quiet_hours": {"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"},
        },
    ]})

    rules: dict[Literal["critical", "high", "warning", "info"], list[Medium]] = Field(
        default_factory=dict, description="severity -> media; missing severities keep the defaults")
    quiet_hours: QuietHours | None = None

    @field_validator("rules")
    @classmethod
    def _dedupe(cls, v: dict) -> dict:
        return {k: sorted(set(media), key=USER_MEDIA.index) for k, media in v.items()}


class PrefsOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d",
        "rules": {"critical": ["email", "push", "feed"], "high": ["email", "feed"], "warning": ["feed"],
                  "info": ["feed"]},
        "quiet_hours": {"enabled": True, "start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"},
        "severities": ["critical", "high", "warning", "info"], "media": ["email", "push", "feed"],
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    rules: dict[str, list[str]]
    quiet_hours: QuietHours | None
    severities: list[str] = Field(default=list(SEVERITIES))
    media: list[str] = Field(default=list(USER_MEDIA))
    created_at: UTCDatetime
    updated_at: UTCDatetime


class FeedItemOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "event": "incident.triggered",
        "title": "[CRITICAL] nightly backup is down", "body": "No ping since 03:00:41 UTC.",
        "severity": "critical", "incident_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        "url": "https://xinex.example.com/incidents/5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "read": False,
        "read_at": None, "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    event: str
    title: str
    body: str
    severity: str
    incident_id: uuid.UUID | None
    url: str
    read: bool
    read_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class FeedPage(Page[FeedItemOut]):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
                   "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
                   "user_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "event": "incident.triggered",
                   "title": "[CRITICAL] nightly backup is down", "body": "No ping since 03:00:41 UTC.",
                   "severity": "critical", "incident_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                   "url": "https://xinex.example.com/incidents/5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                   "read": False, "read_at": None,
                   "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}],
        "total": 1, "page": 1, "per_page": 25, "total_pages": 1, "unread_count": 2}]})
    unread_count: int


class UnreadCount(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "unread_count": 2}]})
    unread_count: int


class ReadAllOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "marked": 3, "unread_count": 2}]})
    marked: int
    unread_count: int


# --- The per-kind shape of a channel's `config`, for the OpenAPI document. The server validates each
# kind in notify/channels/<kind>.py (which names fields `config.<key>` in its 422s); these models state
# the same rules so that a client sees them before sending. Keep both in step.
_URL_NOTE = ("http(s) URL without credentials; its host must resolve to an address the server may reach "
             "(private and loopback addresses only with XINEX_OUTBOUND_ALLOW_PRIVATE), else 422")
_Url = Field(max_length=2000, pattern=HTTP_URL_SCHEMA, description=_URL_NOTE)
_Short = Field(default=None, max_length=200)
_B64 = "[A-Za-z0-9+/]"
_RESERVED_HEADERS = ("host", "content-length", "content-type", "webhook-id", "webhook-timestamp", "webhook-signature")
_ANY_CASE = "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in name) for name in _RESERVED_HEADERS)
_HEADER_NAME = f"^(?!({_ANY_CASE})$)[A-Za-z0-9-]{{1,64}}$"
_WHSEC = f"^whsec_(({_B64}{{4}}){{6,}}|({_B64}{{4}}){{5,}}({_B64}{{2}}==|{_B64}{{3}}=))$"  # >= 16 bytes


class SlackConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook_url: str = _Url
    username: str | None = _Short
    icon_emoji: str | None = _Short


class DiscordConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook_url: str = _Url
    username: str | None = _Short
    avatar_url: str | None = _Short


class TeamsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    webhook_url: str = _Url
    format: Literal["messagecard", "adaptive"] = "messagecard"


class WebhookConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = _Url
    headers: dict[str, Annotated[str, Field(max_length=1000, pattern=r"^[^\r\n]*$")]] = Field(
        default_factory=dict, max_length=20, json_schema_extra={"propertyNames": {"pattern": _HEADER_NAME}},
        description="sent with every delivery; not Host, Content-Length, Content-Type or webhook-*")
    secret: str | None = Field(default=None, pattern=_WHSEC, description=(
        "Standard Webhooks signing secret (whsec_ + base64 of at least 16 bytes)"))


class WebhookConfigUpdate(WebhookConfig):
    secret: str | None = Field(default=None, pattern=f"{_WHSEC}|^[*]{{4}}$", description=(
        "a new signing secret, or the masked value (****) to keep the stored one"))


class EmailConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    addresses: list[Annotated[str, Field(pattern=r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")]] = Field(
        min_length=1, max_length=50)


class PushConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_ids: list[uuid.UUID] = Field(min_length=1, max_length=100,
                                      description="members of this tenant (422 otherwise)")


CONFIG_OF_KIND = {"slack": SlackConfig, "discord": DiscordConfig, "teams": TeamsConfig, "webhook": WebhookConfig,
                  "email": EmailConfig, "push": PushConfig}


def _create_variant(kind: str, config: type[BaseModel]) -> type[BaseModel]:
    fields = {name: (info.annotation, info) for name, info in ChannelCreate.model_fields.items()
              if name not in ("kind", "config")}
    return create_model(f"{kind.capitalize()}ChannelCreate", __config__=ConfigDict(extra="forbid"),
                        kind=(Literal[kind], ...), config=(config, ...), **fields)


ChannelCreateDoc = Annotated[
    Union[tuple(_create_variant(k, c) for k, c in CONFIG_OF_KIND.items())],  # noqa: UP007
    Field(discriminator="kind")]


class ChannelUpdateDoc(BaseModel):
    """ChannelUpdate as documented: `config` is the stored kind's, whole (masked values sent back
    keep the stored secrets)."""

    model_config = ConfigDict(extra="forbid", title="ChannelUpdate")
    name: NonBlankStr | None = Field(default=None, min_length=1, max_length=200)
    config: (SlackConfig | DiscordConfig | TeamsConfig | WebhookConfigUpdate | EmailConfig | PushConfig
             | None) = Field(default=None, description="the channel's kind decides which shape applies")
    enabled: bool | None = None
    default: bool | None = Field(default=None, description="join (true) or leave (false) the default route")


CHANNEL_EXAMPLES = {
    "slack": {"name": "#ops", "kind": "slack",
              "config": {"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}},
    "webhook": {"name": "On-call bridge", "kind": "webhook",
                "config": {"url": "https://hooks.example.com/xinex", "headers": {"X-Team": "ops"},
                           "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
    "email": {"name": "Ops mailbox", "kind": "email", "config": {"addresses": ["ops@example.com"]},
              "default": False},
}
