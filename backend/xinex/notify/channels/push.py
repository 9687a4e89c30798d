"""Push: delivered by the mobile push domain (`xinex.push`: APNs and FCM) through the `PushSender` it
installs; until one is installed we record the attempt (status "recorded") so nothing is silently lost.

A push to a user fans out to each of their devices, and each device has its own row in the delivery
ledger (target `push:<token id>`), so a device that answered 429 is retried alone and a device that
already got the page never gets it again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from xinex.notify.channels.common import invalid, only_keys
from xinex.notify.ledger import Outcome
from xinex.notify.message import NotificationMessage

TRANSPORT = "push"
DEVICE_TARGET_PREFIX = "push:"
# A device row's stored message carries which device it is for under this key ({id, platform, name, token_end}).
DEVICE_KEY = "device"
TOKEN_END_CHARS = 6


@dataclass
class PushResult:
    status: str  # "sent" | "recorded" | "no_devices" | "failed" | "in_progress"
    devices: int = 0
    error: str | None = None
    retry_at: datetime | None = None  # in_progress: when a device's delivery is due again


class PushSender(Protocol):
    """Implemented by `xinex.push`. Must be idempotent per (message.dedup_key, device)."""

    async def send(self, session, user_id: uuid.UUID, message: NotificationMessage) -> PushResult: ...

    async def deliver_device(self, session, attempt, message: NotificationMessage) -> Outcome:
        """One retry of a device's ledger row (target `push:<token id>`), already claimed by the caller."""
        ...


class RecordingPushSender:
    """The default before the mobile surface plugs in: nothing leaves, the ledger row says why."""

    async def send(self, session, user_id: uuid.UUID, message: NotificationMessage) -> PushResult:
        return PushResult(status="recorded")

    async def deliver_device(self, session, attempt, message: NotificationMessage) -> Outcome:
        return Outcome("recorded")


_sender: PushSender = RecordingPushSender()


def set_push_sender(sender: PushSender) -> None:
    global _sender
    _sender = sender


def get_push_sender() -> PushSender:
    return _sender


def validate(config: dict) -> dict:
    only_keys(config, {"user_ids"})
    raw = config.get("user_ids")
    if not isinstance(raw, list) or not 1 <= len(raw) <= 100:
        raise invalid("user_ids", "one to 100 user ids")
    try:
        ids = sorted({str(uuid.UUID(str(v))) for v in raw})
    except ValueError:
        raise invalid("user_ids", "each entry must be a user id") from None
    return {"user_ids": ids}


def mask(config: dict) -> dict:
    return dict(config)


def merge(new: dict, old: dict) -> dict:
    return new
