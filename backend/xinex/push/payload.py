"""What a page looks like on a phone: the APNs payload and the FCM message, from one NotificationMessage.

Both carry the incident id, title, service, urgency and, for a page that can still be acted on, an
`ack` and a `resolve` action token (identity/action_tokens.py) with the URLs to post them to, so the
notification's buttons work without opening the app. Urgency: critical and high pages are "high"
(APNs priority 10, time-sensitive — critical when the user allowed critical alerts; Android priority
HIGH); the rest "normal" (priority 5, Android NORMAL).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from xinex.identity import action_tokens
from xinex.models.push import PushToken
from xinex.notify.message import EVENT_LABELS, NotificationMessage
from xinex.settings import Settings

ACTIONABLE = ("incident.triggered", "incident.escalated")
CATEGORY = "XINEX_INCIDENT"  # the iOS notification category whose buttons are Acknowledge / Resolve
ANDROID_CHANNEL = "xinex_pages"


def urgency(message: NotificationMessage) -> str:
    return "high" if message.severity in ("critical", "high") and message.event in ACTIONABLE else "normal"


def _actions(message: NotificationMessage, user_id: uuid.UUID, settings: Settings) -> dict[str, str]:
    if message.incident_id is None or message.event not in ACTIONABLE:
        return {}
    base = f"{settings.public_url.rstrip('/')}/api/v1/incidents/{message.incident_id}"
    out: dict[str, str] = {}
    for action in action_tokens.ACTIONS:
        out[f"{action}_token"] = action_tokens.issue(user_id=user_id, tenant_id=message.tenant_id,
                                                     incident_id=message.incident_id, action=action)
        out[f"{action}_url"] = f"{base}/{action}"
    return out


def _common(message: NotificationMessage, device: PushToken, delivery_id: uuid.UUID, settings: Settings) -> dict[str, Any]:
    return {
        "incident_id": str(message.incident_id) if message.incident_id else "",
        "title": message.title[:200],
        "service": message.service or "",
        "urgency": urgency(message),
        "severity": message.severity,
        "event": message.event,
        "tenant_id": str(message.tenant_id),
        "url": message.url,
        "delivery_id": str(delivery_id),  # the same on every retry: the app drops a duplicate
        **_actions(message, device.user_id, settings),
    }


def _alert_title(message: NotificationMessage) -> str:
    label = EVENT_LABELS.get(message.event, message.event)
    return f"{label}: {message.service}" if message.service else label


def apns(message: NotificationMessage, device: PushToken, delivery_id: uuid.UUID, settings: Settings) -> dict[str, Any]:
    """(payload, priority, collapse id, expiration) for APNs."""
    high = urgency(message) == "high"
    level = "critical" if high and message.severity == "critical" and device.critical_alerts else (
        "time-sensitive" if high else "active")
    sound: dict[str, Any] | str = {"critical": 1, "name": "default", "volume": 1.0} if level == "critical" else "default"
    aps: dict[str, Any] = {"alert": {"title": _alert_title(message), "body": message.title[:200]}, "sound": sound,
           "interruption-level": level, "category": CATEGORY, "mutable-content": 1}
    if message.incident_id:
        aps["thread-id"] = str(message.incident_id)
    return {
        "payload": {"aps": aps, "xinex": _common(message, device, delivery_id, settings)},
        "priority": 10 if high else 5,
        "collapse_id": str(message.incident_id) if message.incident_id else None,
        "expiration": int(time.time()) + settings.push_action_ttl_s,
    }


def fcm(message: NotificationMessage, device: PushToken, delivery_id: uuid.UUID, settings: Settings) -> dict[str, Any]:
    """The v1 `message` object for FCM (data values are strings, as FCM requires)."""
    high = urgency(message) == "high"
    android: dict[str, Any] = {"priority": "HIGH" if high else "NORMAL", "ttl": f"{settings.push_action_ttl_s}s",
                     "notification": {"channel_id": ANDROID_CHANNEL, "click_action": CATEGORY}}
    if message.incident_id:
        android["collapse_key"] = str(message.incident_id)
        android["notification"]["tag"] = str(message.incident_id)
    return {
        "token": device.token,
        "notification": {"title": _alert_title(message), "body": message.title[:200]},
        "data": {k: str(v) for k, v in _common(message, device, delivery_id, settings).items()},
        "android": android,
    }
