"""The message the incident engine hands to notify, and helpers shared by the channel formats."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

EVENTS = ("incident.triggered", "incident.escalated", "incident.acknowledged", "incident.resolved", "test")
SEVERITIES = ("critical", "high", "warning", "info")


@dataclass
class NotificationMessage:
    tenant_id: uuid.UUID
    event: str  # "incident.triggered" | "incident.escalated" | "incident.acknowledged" | "incident.resolved"
    title: str
    body: str
    severity: str
    incident_id: uuid.UUID
    url: str
    dedup_key: str  # the incident engine's Page id: delivery is idempotent per (dedup_key, channel)

    def to_json(self) -> dict:
        data = asdict(self)
        data["tenant_id"] = str(self.tenant_id)
        data["incident_id"] = str(self.incident_id)
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotificationMessage:
        return cls(**{**data, "tenant_id": uuid.UUID(data["tenant_id"]),
                      "incident_id": uuid.UUID(data["incident_id"])})


EVENT_LABELS = {
    "incident.triggered": "Triggered",
    "incident.escalated": "Escalated",
    "incident.acknowledged": "Acknowledged",
    "incident.resolved": "Resolved",
    "test": "Test",
}

# Resolved is always green, acknowledged amber; otherwise the severity decides.
SEVERITY_COLORS = {"critical": 0xD92D20, "high": 0xF04438, "warning": 0xF79009, "info": 0x2E90FA}
RESOLVED_COLOR = 0x12B76A
ACK_COLOR = 0xFDB022


def color_for(message: NotificationMessage) -> int:
    if message.event == "incident.resolved":
        return RESOLVED_COLOR
    if message.event == "incident.acknowledged":
        return ACK_COLOR
    return SEVERITY_COLORS.get(message.severity, SEVERITY_COLORS["critical"])


def headline(message: NotificationMessage) -> str:
    return f"[{EVENT_LABELS.get(message.event, message.event)}] {message.title}"
