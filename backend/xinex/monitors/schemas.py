"""Request and response shapes of the monitor API. Input is flat (`type` picks the fields)."""

from __future__ import annotations

import ipaddress
import re
import ssl
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from xinex.kit import outbound
from xinex.kit.fields import TAGS_SCHEMA, NonBlankStr, clean_tags
from xinex.kit.outbound import HTTP_URL_SCHEMA
from xinex.kit.types import NulFreeStr, UTCDatetime

REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,49}$")
HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
HOST_RE = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$")
STATUS_RANGE_RE = re.compile(r"^([1-5])xx$|^(\d{3})-(\d{3})$")
# HEADER_RE without the headers the HTTP client sets itself (in any case).
HEADER_NAME_SCHEMA = r"^(?![Hh][Oo][Ss][Tt]$|[Cc][Oo][Nn][Tt][Ee][Nn][Tt]-[Ll][Ee][Nn][Gg][Tt][Hh]$|" \
    r"[Tt][Rr][Aa][Nn][Ss][Ff][Ee][Rr]-[Ee][Nn][Cc][Oo][Dd][Ii][Nn][Gg]$|[Cc][Oo][Nn][Nn][Ee][Cc][Tt][Ii][Oo][Nn]$)" \
    r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$"
SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token"}
MASK = "********"
MAX_INTERVAL_S = 86400


def _check_regions(regions: list[str]) -> list[str]:
    out: list[str] = []
    for region in regions:
        region = region.strip().lower()
        if not REGION_RE.match(region):
            raise ValueError("regions are lowercase letters, digits and dashes (1-50)")
        if region not in out:
            out.append(region)
    if len(out) > 10:
        raise ValueError("at most 10 regions")
    return out


def _check_host(host: str) -> str:
    host = host.strip()
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare)
        return bare
    except ValueError:
        pass
    if not HOST_RE.match(host):
        raise ValueError("not a valid host name or IP address")
    return host.rstrip(".").lower()


def status_matches(code: int, expected: list[int | str]) -> bool:
    for item in expected:
        if isinstance(item, int):
            if code == item:
                return True
            continue
        m = STATUS_RANGE_RE.match(item)
        if m and m.group(1) and code // 100 == int(m.group(1)):
            return True
        if m and m.group(2) and int(m.group(2)) <= code <= int(m.group(3)):
            return True
    return False


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: NonBlankStr = Field(min_length=1, max_length=200)
    interval: int = Field(default=300, ge=1, le=MAX_INTERVAL_S, description="seconds between checks")
    timeout: float = Field(default=10.0, ge=0.5, le=60, description="seconds before a check fails")
    latency_threshold_ms: int | None = Field(default=None, ge=1, le=120_000, description="slower → degraded")
    confirmation_period: int = Field(default=1, ge=1, le=20, description="consecutive failures before down")
    recovery_period: int = Field(default=1, ge=1, le=20, description="consecutive successes before up")
    regions: list[str] = Field(default_factory=list, description="probe regions; empty = checked by the platform",
                               json_schema_extra={"maxItems": 10, "items": {
                                   "type": "string", "pattern": r"^\s*[A-Za-z0-9][A-Za-z0-9-]{0,49}\s*$"}})
    tags: list[NulFreeStr] = Field(default_factory=list, json_schema_extra=TAGS_SCHEMA)
    paused: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    _tags = field_validator("tags")(classmethod(lambda cls, v: clean_tags(v)))
    _regions = field_validator("regions")(classmethod(lambda cls, v: _check_regions(v)))


class HttpMonitorIn(_Common):
    type: Literal["http"]
    url: str = Field(max_length=2000, json_schema_extra={"pattern": HTTP_URL_SCHEMA})
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict, json_schema_extra={
        "maxProperties": 50, "propertyNames": {"pattern": HEADER_NAME_SCHEMA},
        "additionalProperties": {"type": "string", "maxLength": 4000, "pattern": r"^[^\r\n\x00]*$"}})
    body: NulFreeStr | None = Field(default=None, max_length=65536)
    expected_status: list[int | str] = Field(default_factory=lambda: ["200-299"], min_length=1, max_length=20)
    keyword: NulFreeStr | None = Field(default=None, min_length=1, max_length=500)
    keyword_absent: bool = Field(default=False, description="degraded when the keyword IS present")
    follow_redirects: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        try:
            outbound.check_url(v.strip(), allow_private=True)  # syntax and scheme; addresses at check time
        except outbound.OutboundError as exc:
            raise ValueError(str(exc)) from None
        return v.strip()

    @field_validator("headers")
    @classmethod
    def _headers(cls, v: dict[str, str]) -> dict[str, str]:
        if len(v) > 50:
            raise ValueError("at most 50 headers")
        for name, value in v.items():
            if not HEADER_RE.match(name) or len(value) > 4000 or any(c in value for c in "\r\n\0"):
                raise ValueError(f"invalid header {name[:40]!r}")
            if name.lower() in ("host", "content-length", "transfer-encoding", "connection"):
                raise ValueError(f"header {name} is set by the client")
        return v

    @field_validator("expected_status")
    @classmethod
    def _statuses(cls, v: list[int | str]) -> list[int | str]:
        for item in v:
            if isinstance(item, int):
                if not 100 <= item <= 599:
                    raise ValueError("status codes are 100-599")
                continue
            m = STATUS_RANGE_RE.match(item)
            if not m or (m.group(2) and not 100 <= int(m.group(2)) <= int(m.group(3)) <= 599):
                raise ValueError("use a code (200), a range ('200-299') or a class ('2xx')")
        return v


class TcpMonitorIn(_Common):
    type: Literal["tcp"]
    host: str = Field(max_length=253, json_schema_extra={"pattern": HOST_RE.pattern})
    port: int = Field(ge=1, le=65535)

    _host = field_validator("host")(classmethod(lambda cls, v: _check_host(v)))


class DnsMonitorIn(_Common):
    type: Literal["dns"]
    hostname: str = Field(max_length=253, json_schema_extra={"pattern": HOST_RE.pattern})
    record_type: Literal["A", "AAAA", "CNAME", "MX", "TXT", "NS"] = "A"
    expected_value: NulFreeStr | None = Field(default=None, min_length=1, max_length=500)
    nameserver: str | None = Field(default=None, description="IP address of the resolver to ask")
    nameserver_port: int = Field(default=53, ge=1, le=65535)

    _hostname = field_validator("hostname")(classmethod(lambda cls, v: _check_host(v)))

    @field_validator("nameserver")
    @classmethod
    def _nameserver(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            return str(ipaddress.ip_address(v.strip().strip("[]")))
        except ValueError:
            raise ValueError("nameserver must be an IP address") from None


class TlsMonitorIn(_Common):
    type: Literal["tls"]
    host: str = Field(max_length=253, json_schema_extra={"pattern": HOST_RE.pattern})
    port: int = Field(default=443, ge=1, le=65535)
    warn_days: int = Field(default=14, ge=0, le=365, description="degraded when expiring within this many days")
    ca_pem: str | None = Field(default=None, max_length=100_000, description="trust this CA instead of the system's")

    _host = field_validator("host")(classmethod(lambda cls, v: _check_host(v)))

    @field_validator("ca_pem")
    @classmethod
    def _ca(cls, v: str | None) -> str | None:
        if v is None:
            return None
        try:
            ssl.create_default_context(cadata=v)
        except (ssl.SSLError, ValueError):
            raise ValueError("not a PEM certificate") from None
        return v


MonitorIn = Annotated[HttpMonitorIn | TcpMonitorIn | DnsMonitorIn | TlsMonitorIn, Field(discriminator="type")]
MONITOR_IN: TypeAdapter = TypeAdapter(MonitorIn)
MONITOR_EXAMPLES = {
    "http": {"type": "http", "name": "Homepage", "url": "https://example.com/health", "interval": 60,
             "expected_status": ["200-299"], "keyword": "ok", "tags": ["web"]},
    "tcp": {"type": "tcp", "name": "PostgreSQL", "host": "db.example.com", "port": 5432, "interval": 60},
    "dns": {"type": "dns", "name": "MX record", "hostname": "example.com", "record_type": "MX", "interval": 300},
    "tls": {"type": "tls", "name": "Certificate", "host": "example.com", "port": 443, "warn_days": 21,
            "interval": 3600},
}
COMMON_FIELDS = set(_Common.model_fields) | {"type"}


class MonitorUpdate(BaseModel):
    """Partial update: fields given replace the current ones; the result is validated as a whole."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"interval": 60, "confirmation_period": 3},
        {"url": "https://example.com/healthz", "keyword": None},
        {"type": "tcp", "host": "db.example.com", "port": 5432},
    ]})

    name: str | None = None
    type: Literal["http", "tcp", "dns", "tls"] | None = None
    interval: int | None = None
    timeout: float | None = None
    latency_threshold_ms: int | None = None
    confirmation_period: int | None = None
    recovery_period: int | None = None
    regions: list[str] | None = None
    tags: list[str] | None = None


class MonitorOut(BaseModel):
    """Common fields plus the type's own fields (url, host, port, record_type, …) at the top level."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "checkout api", "type": "http", "interval": 60, "timeout": 10.0, "latency_threshold_ms": 2000,
        "confirmation_period": 0, "recovery_period": 0, "regions": ["eu-west", "us-east"], "tags": ["shop"],
        "status": "up", "paused": False, "status_changed_at": "2026-12-04T03:00:00Z",
        "next_check_at": "2026-12-04T09:31:00Z", "last_checked_at": "2026-12-04T09:30:00Z",
        "last_result": "up", "last_latency_ms": 182.0, "last_status_code": 200, "last_error": None,
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "url": "https://shop.example.com/health", "method": "GET"}]})

    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    type: str
    interval: int
    timeout: float
    latency_threshold_ms: int | None
    confirmation_period: int
    recovery_period: int
    regions: list[str]
    tags: list[str]
    status: str
    paused: bool
    paused_reason: str | None = Field(default=None, description='"tier_limit": paused by a downgrade (over the '
                                      "plan's limit); an upgrade resumes it")
    status_changed_at: UTCDatetime | None
    next_check_at: UTCDatetime | None
    last_checked_at: UTCDatetime | None
    last_result: str | None
    last_latency_ms: float | None
    last_status_code: int | None
    last_error: str | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class RegionStatus(BaseModel):
    region: str
    result: str | None
    checked_at: UTCDatetime | None
    latency_ms: float | None
    status_code: int | None
    error: str | None
    reason: str | None


class Advisory(BaseModel):
    code: str
    message: str
    regions: list[str] = Field(default_factory=list)


class LastCheck(BaseModel):
    checked_at: UTCDatetime | None
    result: str | None
    latency_ms: float | None
    status_code: int | None
    error: str | None
    reason: str | None


class MonitorStatusOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "status": "up",
        "status_changed_at": "2026-12-04T03:00:00Z", "latency_ms": 182.0,
        "last_check": {"checked_at": "2026-12-04T09:30:00Z", "result": "up", "latency_ms": 182.0,
                       "status_code": 200, "error": None, "reason": None},
        "next_check_at": "2026-12-04T09:31:00Z", "confirmation": {},
        "regions": [{"region": "eu-west", "result": "up", "checked_at": "2026-12-04T09:30:00Z",
                     "latency_ms": 182.0, "status_code": 200, "error": None, "reason": None}],
        "advisories": []}]})
    monitor_id: uuid.UUID
    status: str
    status_changed_at: UTCDatetime | None
    latency_ms: float | None
    last_check: LastCheck | None
    next_check_at: UTCDatetime | None
    confirmation: dict[str, Any]
    regions: list[RegionStatus]
    advisories: list[Advisory]


class CheckOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "check_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "timestamp": "2026-12-04T09:30:00Z",
        "region": "eu-west", "status": "up", "latency_ms": 182.0, "status_code": 200, "error": "",
        "details": {}}]})
    check_id: uuid.UUID
    timestamp: UTCDatetime
    region: str
    status: str
    latency_ms: float
    status_code: int | None
    error: str
    details: dict[str, str]


# --- probes ---------------------------------------------------------------------------------------

class ProbeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "frankfurt-1", "region": "eu-central"},
    ]})

    name: NonBlankStr = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=50, json_schema_extra={"pattern": REGION_RE.pattern})

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not REGION_RE.match(v):
            raise ValueError("lowercase letters, digits and dashes (1-50)")
        return v


class ProbeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "office probe", "region": "eu-west", "token_prefix": "xinex_probe_9c1d", "enabled": True,
        "last_seen_at": "2026-12-04T09:30:00Z", "created_at": "2026-12-01T08:00:00Z",
        "updated_at": "2026-12-04T09:30:00Z"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    region: str
    token_prefix: str
    enabled: bool
    last_seen_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class ProbeCreated(ProbeOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "name": "office probe", "region": "eu-west", "token_prefix": "xinex_probe_9c1d", "enabled": True,
        "last_seen_at": None, "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "token": "xinex_probe_9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d9c1d"}]})
    token: str = Field(description="the prober token; shown only once")


class Assignments(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "probe_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "region": "eu-west", "items": []}]})
    probe_id: uuid.UUID
    region: str
    items: list[dict]


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    monitor_id: uuid.UUID
    check_id: uuid.UUID
    checked_at: UTCDatetime
    status: str = Field(pattern="^(up|degraded|down)$")
    latency_ms: float = Field(ge=0, le=600_000)
    status_code: int | None = Field(default=None, ge=0, le=999)
    error: str = Field(default="", max_length=2000)
    reason: str = Field(default="ok", max_length=60)
    details: dict[str, str] = Field(default_factory=dict, max_length=20)


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "results": [
                {
                    "monitor_id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f",
                    "check_id": "7a9e2d4c-1b3f-4c5d-8e6f-0a1b2c3d4e5f",
                    "checked_at": "2026-12-04T12:00:00Z",
                    "status": "up",
                    "latency_ms": 84.2,
                    "status_code": 200,
                },
            ],
        },
    ]})

    results: list[ResultIn] = Field(min_length=1, max_length=500)
