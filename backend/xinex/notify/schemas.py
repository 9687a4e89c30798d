"""Request and response shapes of the notification API."""

from __future__ import annotations

import re
import uuid
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinex.kit.fields import NonBlankStr
from xinex.kit.pagination import Page
from xinex.kit.types import UTCDatetime
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
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: str
    config: dict = Field(description="secrets (webhook URLs, header values) are masked")
    enabled: bool
    default: bool = Field(description="on the default route (the default route's channel_ids hold the same)")
    created_at: UTCDatetime
    updated_at: UTCDatetime


class AttemptOut(BaseModel):
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


class QuietHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    start: str = Field(description="local time HH:MM")
    end: str = Field(description="local time HH:MM")
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
    model_config = ConfigDict(extra="forbid")

    rules: dict[Literal["critical", "high", "warning", "info"], list[Medium]] = Field(
        default_factory=dict, description="severity -> media; missing severities keep the defaults")
    quiet_hours: QuietHours | None = None

    @field_validator("rules")
    @classmethod
    def _dedupe(cls, v: dict) -> dict:
        return {k: sorted(set(media), key=USER_MEDIA.index) for k, media in v.items()}


class PrefsOut(BaseModel):
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
    unread_count: int


class UnreadCount(BaseModel):
    unread_count: int


class ReadAllOut(BaseModel):
    marked: int
    unread_count: int
