"""Standard Webhooks (standardwebhooks.com): secrets `whsec_<base64>`, HMAC-SHA256 over
`{id}.{timestamp}.{body}` with the base64-decoded secret, header value `v1,<base64 sig>`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import datetime

from xinex.kit.types import utcnow
from xinex.models.webhooks import WebhookSubscription

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def valid_secret(secret: str) -> bool:
    try:
        return len(_key(secret)) >= 16
    except (ValueError, binascii.Error):
        return False


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Headers for one send; during a rotation overlap the signature header carries both."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(s, msg_id, timestamp, body) for s in secrets_),
    }


def overlap_end(sub: WebhookSubscription, now: datetime | None = None) -> datetime | None:
    """Until when the previous secret still signs (after a rotation with an overlap), or None."""
    end = sub.previous_secret_expires_at
    return end if sub.previous_secret and end and end > (now or utcnow()) else None


def signing_secrets(sub: WebhookSubscription, now: datetime | None = None) -> list[str]:
    """The current secret, plus the previous one while the rotation overlap lasts."""
    out = [sub.secret]
    if overlap_end(sub, now) and sub.previous_secret:
        out.append(sub.previous_secret)
    return out
