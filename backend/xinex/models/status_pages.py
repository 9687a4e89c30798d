"""Status pages: the public face of a tenant (pages, component groups, components, the public
incidents with their updates, subscribers and what was sent to them).

Public identifiers: a page is reached by its `slug`; components, incidents and subscribers carry a
random `key` that the public surface uses instead of their ids (docs/status-pages.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class StatusPage(TenantOwned, table=True):
    __tablename__ = "status_pages"
    __table_args__ = (Index("uq_status_pages_custom_domain", "custom_domain", unique=True),)

    name: str = Field(max_length=200)
    slug: str = Field(max_length=64, unique=True, index=True)  # unique across tenants: it is the public URL
    description: str | None = Field(default=None, max_length=2000)
    logo_url: str | None = Field(default=None, max_length=2000)
    brand_color: str = Field(default="#1f6feb", max_length=7)
    time_zone: str = Field(default="UTC", max_length=64)
    visibility: str = Field(default="public", max_length=10)  # public | password | members
    password_hash: str | None = Field(default=None, max_length=255)
    # Unique across tenants: a request whose Host is this domain is served this page (status_pages/domains.py).
    custom_domain: str | None = Field(default=None, max_length=253)
    show_uptime_bars: bool = Field(default=True)
    show_response_times: bool = Field(default=False)
    show_maintenance: bool = Field(default=True)
    past_incident_days: int = Field(default=14)


class StatusPageGroup(TenantOwned, table=True):
    __tablename__ = "status_page_groups"

    page_id: uuid.UUID = Field(foreign_key="status_pages.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=200)
    position: int = Field(default=0)


class StatusPageComponent(TenantOwned, table=True):
    __tablename__ = "status_page_components"

    page_id: uuid.UUID = Field(foreign_key="status_pages.id", ondelete="CASCADE", index=True)
    group_id: uuid.UUID | None = Field(default=None, foreign_key="status_page_groups.id", ondelete="SET NULL",
                                       nullable=True)
    key: str = Field(max_length=16, unique=True)  # public identifier (badges, SSE, JSON)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    position: int = Field(default=0)
    source_type: str = Field(default="manual", max_length=12)  # monitor | heartbeat | ai_heartbeat | manual
    # The monitor, heartbeat or AI heartbeat the status derives from (no FK: each lives in its own table).
    source_id: uuid.UUID | None = Field(default=None, nullable=True, index=True)
    # Set: the component shows this status whatever its source says (a manual component's only status).
    status_override: str | None = Field(default=None, max_length=16, nullable=True)


class StatusPageIncident(TenantOwned, table=True):
    __tablename__ = "status_page_incidents"
    __table_args__ = (Index("ix_status_page_incidents_page_started", "page_id", "started_at"),)

    page_id: uuid.UUID = Field(foreign_key="status_pages.id", ondelete="CASCADE")
    key: str = Field(max_length=16, unique=True)
    title: str = Field(max_length=300)
    status: str = Field(default="investigating", max_length=16)  # investigating | identified | monitoring | resolved
    impact: str = Field(default="minor", max_length=10)  # none | minor | major | critical
    # [{"component_id": uuid, "impact": degraded | partial_outage | major_outage}]
    affected: list[dict[str, str]] = Field(default_factory=list, sa_type=JSONType)
    started_at: datetime = utc_field()
    resolved_at: datetime | None = utc_field(default=None, nullable=True)
    # The internal on-call incident this communicates about (never shown publicly).
    linked_incident_id: uuid.UUID | None = Field(default=None, nullable=True)


class StatusPageIncidentUpdate(TenantOwned, table=True):
    __tablename__ = "status_page_incident_updates"

    incident_id: uuid.UUID = Field(foreign_key="status_page_incidents.id", ondelete="CASCADE", index=True)
    status: str = Field(max_length=16)
    body: str = Field(max_length=10000)
    notify: bool = Field(default=False)
    at: datetime = utc_field()


class StatusPageSubscriber(TenantOwned, table=True):
    __tablename__ = "status_page_subscribers"
    __table_args__ = (UniqueConstraint("page_id", "kind", "target"),)

    page_id: uuid.UUID = Field(foreign_key="status_pages.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=24, unique=True, index=True)  # in confirm and unsubscribe links
    kind: str = Field(max_length=10)  # email | webhook
    target: str = Field(max_length=2000)  # the e-mail address or the webhook URL
    secret: str | None = Field(default=None, max_length=100)  # webhook signing secret (whsec_…)
    confirmed_at: datetime | None = utc_field(default=None, nullable=True)
    confirm_sent_at: datetime | None = utc_field(default=None, nullable=True)
    # Set when the receiver asked to stop (a webhook answering 410 Gone): sent nothing more.
    disabled_at: datetime | None = utc_field(default=None, nullable=True)
    disabled_reason: str | None = Field(default=None, max_length=200)


class StatusPageNotification(TenantOwned, table=True):
    """One incident update sent (or being sent) to one subscriber: makes the send job idempotent."""

    __tablename__ = "status_page_notifications"
    __table_args__ = (UniqueConstraint("update_id", "subscriber_id"),
                      Index("ix_status_page_notifications_due", "status", "next_attempt_at"))

    update_id: uuid.UUID = Field(foreign_key="status_page_incident_updates.id", ondelete="CASCADE")
    subscriber_id: uuid.UUID = Field(foreign_key="status_page_subscribers.id", ondelete="CASCADE")
    status: str = Field(default="pending", max_length=10)  # pending | sending | retrying | sent | failed
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = utc_field(default=None, nullable=True)  # due (pending, retrying)
    lease_until: datetime | None = utc_field(default=None, nullable=True)  # one sender per attempt (sending)
    last_attempt_at: datetime | None = utc_field(default=None, nullable=True)
