"""The message the incident engine hands to notify, and helpers shared by the channel formats."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

EVENTS = ("incident.triggered", "incident.escalated", "incident.acknowledged", "incident.resolved", "test")
SEVERITIES = ("critical", "high", "warning", "info")

# The one link format of every notification: the web app's incident page (its SPA route
# `/incidents/:id`, served at `/` by the same process), under XINEX_PUBLIC_URL. docs/concepts.md.
INCIDENT_LINK = "{public_url}/incidents/{incident_id}"


def incident_link(public_url: str, incident_id: uuid.UUID) -> str:
    return INCIDENT_LINK.format(public_url=public_url.rstrip("/"), incident_id=incident_id)


@dataclass
class NotificationMessage:
    tenant_id: uuid.UUID
    event: str  # "incident.triggered" | "incident.escalated" | "incident.acknowledged" | "incident.resolved" | "test"
    title: str
    body: str
    severity: str
    incident_id: uuid.UUID | None  # None only for a test message
    url: str
    # The delivery's identity (the incident engine's Page id; "test:<uuid>" for a test): delivery is
    # idempotent per (dedup_key, target), and every retry of one delivery carries the same one.
    dedup_key: str
    # The incident's own dedup key: the same on its trigger, escalation, acknowledge and resolve, so a
    # receiver can pair them (PagerDuty Events' dedup_key). None on a test message.
    incident_key: str | None = None
    test: bool = False  # a channel's "send test": no incident behind it
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    service: str | None = None  # the incident's service, when it names one (push payloads carry it)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tenant_id"] = str(self.tenant_id)
        data["incident_id"] = str(self.incident_id) if self.incident_id else None
        for key in ("opened_at", "resolved_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotificationMessage:
        # Rows stored before a field existed lack it: the dataclass defaults apply. Keys that are not fields
        # (a push row's `device`, what the notification log shows) stay with the row.
        data = {key: value for key, value in data.items() if key in _FIELDS}
        return cls(**{**data, "tenant_id": uuid.UUID(data["tenant_id"]),
                      "incident_id": uuid.UUID(data["incident_id"]) if data.get("incident_id") else None,
                      **{key: datetime.fromisoformat(data[key]) for key in ("opened_at", "resolved_at")
                         if data.get(key)}})


_FIELDS = {f.name for f in fields(NotificationMessage)}

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


def when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration_words(seconds: float) -> str:
    """'45 s', '5 min 3 s', '2 h 4 min', '3 d 2 h': how long something lasted, to the two largest units."""
    total = max(0, int(seconds))
    parts = [(total // 86400, "d"), (total % 86400 // 3600, "h"), (total % 3600 // 60, "min"), (total % 60, "s")]
    first = next((i for i, (n, _) in enumerate(parts) if n), None)
    if first is None:
        return "0 s"
    return " ".join(f"{n} {unit}" for n, unit in parts[first:first + 2] if n)


def down_for(message: NotificationMessage) -> str | None:
    if message.opened_at is None or message.resolved_at is None:
        return None
    return duration_words((message.resolved_at - message.opened_at).total_seconds())


def facts(message: NotificationMessage) -> list[tuple[str, str]]:
    """The short name/value pairs every chat format shows next to the text: the status, and the
    severity while it matters — a resolved message says how long it lasted instead."""
    out = [("Status", EVENT_LABELS.get(message.event, message.event))]
    if message.event == "incident.resolved":
        lasted = down_for(message)
        if lasted:
            out.append(("Down for", lasted))
        if message.resolved_at:
            out.append(("Resolved at", when(message.resolved_at)))
    else:
        out.append(("Severity", message.severity))
    return out


def link_text(message: NotificationMessage) -> str:
    return "Open Xinex" if message.test else "View incident"
