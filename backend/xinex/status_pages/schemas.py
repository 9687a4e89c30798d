"""Request and response shapes of the status-page admin API and of its public surface."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from xinex.kit.fields import NonBlankStr, TimeZoneName
from xinex.kit.outbound import HTTP_URL_SCHEMA, OutboundBlocked, check_url
from xinex.kit.types import NoNul, UTCDatetime

ComponentStatus = Literal["operational", "degraded", "partial_outage", "major_outage", "maintenance"]
COMPONENT_STATUSES: tuple[str, ...] = ("operational", "degraded", "partial_outage", "major_outage", "maintenance")
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved"]
INCIDENT_STATUSES: tuple[str, ...] = ("investigating", "identified", "monitoring", "resolved")
IncidentImpact = Literal["none", "minor", "major", "critical"]
ComponentImpact = Literal["degraded", "partial_outage", "major_outage"]
SourceType = Literal["monitor", "heartbeat", "ai_heartbeat", "manual"]
Visibility = Literal["public", "password", "members"]

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
DOMAIN_PATTERN = r"^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
# The length is checked on the string itself, before the blank/NUL checks: a constraint placed after a
# validator is pydantic's generic length check, which says "at most N items" of a string.
_VISIBLE, _NON_BLANK = get_args(NonBlankStr)[1:]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), _VISIBLE, _NON_BLANK, NoNul]
Title = Annotated[str, StringConstraints(min_length=1, max_length=300), _VISIBLE, _NON_BLANK, NoNul]
Message = Annotated[str, StringConstraints(min_length=1, max_length=10000), _VISIBLE, _NON_BLANK, NoNul]
Text = Annotated[str, StringConstraints(max_length=2000), NoNul]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200), NoNul]
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN)]
# Slugs the root surface uses for itself (/status/{slug}/… is public; these stay unambiguous).
RESERVED_SLUGS = frozenset({"events", "groups", "components", "api", "static", "assets"})


def _https_url(v: str | None) -> str | None:
    if v is None:
        return v
    v = v.strip()
    try:
        check_url(v, allow_private=True)
    except OutboundBlocked as exc:
        raise ValueError(str(exc)) from None
    return v


def _not_null(schema: dict[str, Any], *names: str) -> None:
    """Drop the null branch of optional fields whose absence (not null) is what a rule below speaks of."""
    for name in names:
        prop = schema["properties"][name]
        branches = [b for b in prop.pop("anyOf", []) if b.get("type") != "null"]
        if branches:
            prop.update(branches[0])
        prop.pop("default", None)


PAGE_EXAMPLES: list[Any] = [
    {"name": "Acme status", "slug": "acme", "description": "Live status of Acme's services",
     "brand_color": "#0a7d4f", "time_zone": "Europe/Berlin"},
    {"name": "Internal status", "slug": "acme-internal", "visibility": "password",
     "password": "a long shared passphrase", "past_incident_days": 30},
]


class PageIn(BaseModel):
    """A status page. `visibility`: public (anyone), password (readers give `password`), members (only
    signed-in members of this tenant). `custom_domain` is stored and shown with its CNAME instruction."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": PAGE_EXAMPLES})

    name: Name
    slug: Slug
    description: Text | None = None
    logo_url: str | None = Field(default=None, max_length=2000, json_schema_extra={"pattern": HTTP_URL_SCHEMA})
    brand_color: str = Field(default="#1f6feb", pattern=COLOR_PATTERN)
    time_zone: TimeZoneName = Field(default="UTC", max_length=64)
    visibility: Visibility = "public"
    password: Password | None = Field(
        default=None, description="required with visibility=password (kept only as a hash; omit on PUT to keep it)")
    custom_domain: str | None = Field(default=None, max_length=253, pattern=DOMAIN_PATTERN)
    show_uptime_bars: bool = True
    show_response_times: bool = False
    show_maintenance: bool = True
    past_incident_days: int = Field(default=14, ge=0, le=365)

    @field_validator("logo_url")
    @classmethod
    def _logo(cls, v: str | None) -> str | None:
        v = _https_url(v)
        if v is not None and not re.fullmatch(HTTP_URL_SCHEMA, v):  # the schema's pattern, enforced
            raise ValueError("must be an http(s) URL of letters, digits and URL punctuation (no quotes, spaces, "
                             "< or >)")
        return v

    @field_validator("custom_domain", mode="before")
    @classmethod
    def _domain_case(cls, v: Any) -> Any:
        # Domain names are case-insensitive: STATUS.Acme.com. is status.acme.com.
        return v.strip().lower().rstrip(".") if isinstance(v, str) else v

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str) -> str:
        if v in RESERVED_SLUGS:
            raise ValueError(f"'{v}' is reserved")
        return v


def _password_rule(schema: dict[str, Any]) -> None:
    schema["examples"] = PAGE_EXAMPLES
    schema["if"] = {"properties": {"visibility": {"const": "password"}}, "required": ["visibility"]}
    schema["then"] = {"required": ["password"], "properties": {"password": {"type": "string"}}}
    schema["else"] = {"properties": {"password": {"type": "null"}}}


class PageCreateIn(PageIn):
    """As PageIn; on create, `password` is required with visibility password and absent otherwise (stated
    in the schema as if/then/else). On PUT an omitted password keeps the stored one."""

    model_config = ConfigDict(json_schema_extra=_password_rule)


class PageOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "name": "Acme status", "slug": "acme",
        "description": None, "logo_url": None, "brand_color": "#0a7d4f", "time_zone": "UTC",
        "visibility": "public", "has_password": False, "custom_domain": "status.acme.com",
        "cname_instruction": "CNAME status.acme.com -> xinex.example.com",
        "show_uptime_bars": True, "show_response_times": False, "show_maintenance": True, "past_incident_days": 14,
        "public_url": "https://xinex.example.com/status/acme",
        "created_at": "2026-12-04T10:00:00Z", "updated_at": "2026-12-04T10:00:00Z"}]})

    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    logo_url: str | None
    brand_color: str
    time_zone: str
    visibility: Visibility
    has_password: bool
    custom_domain: str | None
    cname_instruction: str | None = Field(description="the DNS record to create for custom_domain")
    show_uptime_bars: bool
    show_response_times: bool
    show_maintenance: bool
    past_incident_days: int
    public_url: str
    created_at: UTCDatetime
    updated_at: UTCDatetime


class GroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"page_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "name": "API", "position": 0}]})

    page_id: uuid.UUID | None = Field(default=None, description="required on /status/groups; taken from the "
                                      "path under /status-pages/{id}/groups")
    name: Name
    position: int = Field(default=0, ge=0, le=10_000)


class GroupCreateIn(GroupIn):
    """A group created on /status/groups: `page_id` names its page."""

    page_id: uuid.UUID


class GroupOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "page_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "Core services", "position": 0, "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    page_id: uuid.UUID
    name: str
    position: int
    created_at: UTCDatetime
    updated_at: UTCDatetime


COMPONENT_EXAMPLES: list[Any] = [
    {"page_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "name": "Public API", "source_type": "monitor",
     "source_id": "8c1e3f2b-4e7b-5d4a-9c6d-6f1a2b3c4d5e"},
    {"page_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "name": "Support desk", "source_type": "manual",
     "status_override": "degraded"},
]


def _source_rule(schema: dict[str, Any]) -> None:
    """source_id exactly with a non-manual source_type (manual is the default), in the schema's if/then/else."""
    schema["examples"] = COMPONENT_EXAMPLES
    schema["if"] = {"properties": {"source_type": {"enum": ["monitor", "heartbeat", "ai_heartbeat"]}},
                    "required": ["source_type"]}
    schema["then"] = {"required": ["source_id"], "properties": {"source_id": {"type": "string", "format": "uuid"}}}
    schema["else"] = {"properties": {"source_id": {"type": "null"}}}


class ComponentIn(BaseModel):
    """Bound to a monitor, a heartbeat or an AI heartbeat (`source_id`), or manual. `status_override`
    pins the status whatever the source says (null: derived); a manual component shows it, or operational."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_source_rule)

    page_id: uuid.UUID | None = Field(default=None, description="required on /status/components; taken from "
                                      "the path under /status-pages/{id}/components")
    group_id: uuid.UUID | None = None
    name: Name
    description: Text | None = None
    position: int = Field(default=0, ge=0, le=10_000)
    source_type: SourceType = "manual"
    source_id: uuid.UUID | None = None
    status_override: ComponentStatus | None = None

    @model_validator(mode="after")
    def _source(self) -> ComponentIn:
        if self.source_type == "manual" and self.source_id is not None:
            raise ValueError("a manual component has no source_id")
        if self.source_type != "manual" and self.source_id is None:
            raise ValueError(f"source_id is required with source_type {self.source_type}")
        return self


class ComponentCreateIn(ComponentIn):
    """A component created on /status/components: `page_id` names its page."""

    page_id: uuid.UUID


class ComponentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "page_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "group_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "key": "api", "name": "API",
        "description": "public REST API", "position": 0, "source_type": "monitor",
        "source_id": "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "status_override": None, "status": "operational",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    page_id: uuid.UUID
    group_id: uuid.UUID | None
    key: str = Field(description="the public identifier (badges, the public JSON, SSE)")
    name: str
    description: str | None
    position: int
    source_type: SourceType
    source_id: uuid.UUID | None
    status_override: ComponentStatus | None
    status: ComponentStatus = Field(description="what the page shows now")
    created_at: UTCDatetime
    updated_at: UTCDatetime


class AffectedIn(BaseModel):
    component_id: uuid.UUID
    impact: ComponentImpact = "major_outage"


class IncidentIn(BaseModel):
    """A public incident: its first update is `message` in state `status`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Elevated API error rates", "status": "investigating", "impact": "major",
         "message": "We are investigating errors on the public API.",
         "components": [{"component_id": "8c1e3f2b-4e7b-5d4a-9c6d-6f1a2b3c4d5e", "impact": "partial_outage"}],
         "notify": True}]})

    title: Title
    status: IncidentStatus = "investigating"
    impact: IncidentImpact = Field(default="minor", description="how bad it is for readers; minor when omitted")
    message: Message
    components: list[AffectedIn] = Field(default_factory=list, max_length=200)
    notify: bool = Field(default=False, description="mail and call the page's confirmed subscribers")
    linked_incident_id: uuid.UUID | None = Field(default=None, description="the internal incident (never public)")


class IncidentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "Elevated API error rates in eu-west", "impact": "minor"}]})

    title: Title | None = None
    impact: IncidentImpact | None = None
    components: list[AffectedIn] | None = Field(default=None, max_length=200)
    linked_incident_id: uuid.UUID | None = None


class UpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "identified", "message": "A faulty deploy; rolling back.", "notify": True}]})

    status: IncidentStatus
    message: Message
    notify: bool = False


class UpdateOut(BaseModel):
    id: uuid.UUID
    status: IncidentStatus
    message: str
    notify: bool
    at: UTCDatetime


class IncidentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "page_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "key": "elevated-errors", "title": "Elevated error rates on the API", "status": "investigating",
        "impact": "minor",
        "components": [{"component_id": "c0a80101-2e4f-4b1d-9a3c-5e6f7a8b9c0d", "impact": "degraded"}],
        "started_at": "2026-12-04T09:30:00Z", "resolved_at": None, "linked_incident_id": None,
        "updates": [{"id": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "status": "investigating",
                     "message": "We are looking into elevated error rates.", "notify": True,
                     "at": "2026-12-04T09:30:00Z"}],
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    page_id: uuid.UUID
    key: str
    title: str
    status: IncidentStatus
    impact: IncidentImpact
    components: list[AffectedIn]
    started_at: UTCDatetime
    resolved_at: UTCDatetime | None
    linked_incident_id: uuid.UUID | None
    updates: list[UpdateOut]
    created_at: UTCDatetime
    updated_at: UTCDatetime


class SubscriberOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "kind": "email", "target": "ops@example.com",
        "confirmed": True, "disabled_reason": None, "created_at": "2026-12-01T08:00:00Z"}]})
    id: uuid.UUID
    kind: Literal["email", "webhook"]
    target: str
    confirmed: bool
    disabled_reason: str | None = Field(description="set when the receiver asked to stop (a webhook answering "
                                        "410 Gone): nothing more is sent until it subscribes again")
    created_at: UTCDatetime


# --- public surface ---------------------------------------------------------------------------------


def _one_target(schema: dict[str, Any]) -> None:
    schema["examples"] = [{"email": "ada@example.com"}, {"webhook_url": "https://hooks.example.com/status"}]
    _not_null(schema, "email", "webhook_url")
    schema["oneOf"] = [{"required": ["email"]}, {"required": ["webhook_url"]}]


class SubscribeIn(BaseModel):
    """Exactly one of `email` and `webhook_url` (the schema's oneOf)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_target)

    email: EmailStr | None = Field(default=None, max_length=320)
    webhook_url: str | None = Field(default=None, min_length=1, max_length=2000,
                                    json_schema_extra={"pattern": HTTP_URL_SCHEMA})

    @field_validator("webhook_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return _https_url(v)

    @model_validator(mode="after")
    def _one(self) -> SubscribeIn:
        if (self.email is None) == (self.webhook_url is None):
            raise ValueError("give exactly one of email and webhook_url")
        return self


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"token": "k3J9xQ.abcdef0123456789"}]})

    token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")


class Accepted(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"message": "If this can be subscribed, a "
                                                              "confirmation is on its way."}]})
    message: str


class PublicDay(BaseModel):
    date: str = Field(description="calendar day in the page's time zone, YYYY-MM-DD")
    status: Literal["operational", "degraded", "partial_outage", "major_outage", "no_data"]
    uptime_pct: float | None = Field(description="null: no data that day (not 100 %)")


class PublicLatencyHour(BaseModel):
    start: str = Field(description="the hour's start (UTC)")
    p50_ms: float | None = Field(description="median response time of the hour's successful checks; null: none")
    p95_ms: float | None
    checks: int


class PublicLatencyDay(BaseModel):
    date: str = Field(description="calendar day in the page's time zone, YYYY-MM-DD")
    p50_ms: float | None = Field(description="median response time of the day's successful checks; null: none")
    p95_ms: float | None
    checks: int


class PublicResponseTimes(BaseModel):
    hourly: list[PublicLatencyHour] = Field(description="the last 24 hours, oldest first")
    daily: list[PublicLatencyDay] = Field(description="the last 7 days, today last")


class PublicComponent(BaseModel):
    key: str
    name: str
    description: str | None
    status: ComponentStatus
    uptime_90d_pct: float | None
    days: list[PublicDay]
    response_times: PublicResponseTimes | None = Field(
        default=None, description="monitor components of pages that show response times; null: not shown")


class PublicGroup(BaseModel):
    name: str | None = Field(description="null: the components not in a group")
    status: ComponentStatus
    components: list[PublicComponent]


class PublicUpdate(BaseModel):
    status: IncidentStatus
    message: str
    at: str


class PublicAffected(BaseModel):
    key: str
    name: str
    impact: ComponentImpact


class PublicIncident(BaseModel):
    key: str
    title: str
    status: IncidentStatus
    impact: IncidentImpact
    started_at: str
    resolved_at: str | None
    components: list[PublicAffected]
    updates: list[PublicUpdate]


class PublicMaintenance(BaseModel):
    name: str
    description: str | None
    starts_at: str
    ends_at: str
    active: bool
    components: list[str] = Field(description="names of the page's components it covers")


class PublicPageInfo(BaseModel):
    name: str
    slug: str
    description: str | None
    logo_url: str | None
    brand_color: str
    time_zone: str


class PublicOverall(BaseModel):
    status: ComponentStatus
    description: str


class PublicPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "page": {"name": "Acme status", "slug": "acme", "description": None, "logo_url": None,
                 "brand_color": "#0a7d4f", "time_zone": "UTC"},
        "status": {"status": "operational", "description": "All systems operational"},
        "groups": [{"name": "API", "status": "operational", "components": [{
            "key": "k3J9xQa1", "name": "Public API", "description": None, "status": "operational",
            "uptime_90d_pct": 99.98, "days": [{"date": "2026-12-04", "status": "operational", "uptime_pct": 100.0}]}]}],
        "incidents": [], "past_incidents": [], "maintenance": [], "generated_at": "2026-12-04T10:00:00Z"}]})

    page: PublicPageInfo
    status: PublicOverall
    groups: list[PublicGroup]
    incidents: list[PublicIncident] = Field(description="unresolved incidents, newest first")
    past_incidents: list[PublicIncident] = Field(description="resolved within the page's past_incident_days "
                                                 "(at most 20; the rest: /incidents)")
    maintenance: list[PublicMaintenance] = Field(description="in progress and upcoming (next 14 days)")
    generated_at: str


class PublicIncidentPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"key": "elevated-errors", "title": "Elevated error rates on the API",
                   "status": "investigating", "impact": "minor", "started_at": "2026-12-04T09:30:00Z",
                   "resolved_at": None, "components": [{"key": "api", "name": "API", "impact": "degraded"}],
                   "updates": [{"status": "investigating",
                                "message": "We are looking into elevated error rates.",
                                "at": "2026-12-04T09:30:00Z"}]}],
        "total": 1, "page": 1, "per_page": 25, "total_pages": 1}]})
    items: list[PublicIncident]
    total: int
    page: int
    per_page: int
    total_pages: int

