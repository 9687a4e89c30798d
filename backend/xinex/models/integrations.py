"""Integrations: inbound alert sources (Alertmanager, Grafana, PagerDuty- and Opsgenie-compatible
senders, generic JSON webhooks), each with a secret key that only its hash is kept of."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class Integration(TenantOwned, table=True):
    __tablename__ = "integrations"
    __table_args__ = (Index("uq_integrations_key_hash", "key_hash", unique=True),)

    name: str = Field(max_length=200)
    kind: str = Field(max_length=30)  # alertmanager | grafana | pagerduty | opsgenie | webhook
    enabled: bool = Field(default=True)
    # sha256 (hex) of the secret: the ingestion URL's last segment, the routing key or the GenieKey.
    key_hash: str = Field(max_length=64)
    key_hint: str = Field(max_length=8)  # the key's last four characters, to tell keys apart
    key_rotated_at: datetime = utc_field()
    # Default routing: what every alert of this integration carries into routing rules and silences.
    service: str | None = Field(default=None, max_length=255)
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    default_severity: str = Field(default="critical", max_length=20)
    # The sender's severity (label / field value, lower-cased) -> info | warning | error | critical.
    severity_map: dict[str, str] = Field(default_factory=dict, sa_type=JSONType)
    # Generic webhook only: JMESPath expressions {title, dedup_key, severity, resolve, ...}.
    mapping: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    rate_limit_per_minute: int | None = Field(default=None)
    last_event_at: datetime | None = utc_field(default=None, nullable=True)


class ImportLink(TenantOwned, table=True):
    """What an import made of one object of the source (a PagerDuty user, schedule, escalation policy
    or service): a re-run updates that object instead of making another."""

    __tablename__ = "import_links"
    __table_args__ = (Index("uq_import_links_external", "tenant_id", "source", "external_type", "external_id",
                            unique=True),)

    source: str = Field(max_length=30)  # pagerduty
    external_type: str = Field(max_length=30)  # user | schedule | escalation_policy | service
    external_id: str = Field(max_length=100)
    object_type: str = Field(max_length=30)  # user | schedule | escalation_policy | integration | invitation
    object_id: uuid.UUID
