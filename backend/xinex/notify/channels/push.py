"""Push: delivered by the mobile surface through `PushSender`; until one is installed we record
the attempt (status "recorded") so nothing is silently lost."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from xinex.notify.channels.common import invalid, only_keys
from xinex.notify.message import NotificationMessage

TRANSPORT = "push"


@dataclass
class PushResult:
    status: str  # "sent" | "recorded" | "no_devices" | "failed"
    devices: int = 0
    error: str | None = None


class PushSender(Protocol):
    """Implemented by mobile_api (APNs/FCM). Must be idempotent per (message.dedup_key, user)."""

    async def send(self, session, user_id: uuid.UUID, message: NotificationMessage) -> PushResult: ...


class RecordingPushSender:
    """The default before the mobile surface plugs in: nothing leaves, the ledger row says why."""

    async def send(self, session, user_id: uuid.UUID, message: NotificationMessage) -> PushResult:
        return PushResult(status="recorded")


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
