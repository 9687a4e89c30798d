"""Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies").

A successful password sign-in leaves a signed cookie naming the account and a random device id. A
later sign-in to that account from a browser holding it is a *known device*: it has its own attempt
budget and skips the per-account and per-IP limits that an attacker can exhaust on purpose, so
guessing from elsewhere cannot lock the owner out of their own browser. The cookie is stateless
(HMAC with a key derived from XINEX_SECRET_KEY) and says nothing secret; it is no credential: the
password is still checked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from fastapi import Response

from xinex.settings import Settings

DEVICE_COOKIE = "xinex_device"
DEVICE_TTL_S = 180 * 24 * 3600
_CONTEXT = b"xinex device cookie v1"


@dataclass(frozen=True)
class Device:
    user_id: uuid.UUID
    device_id: str


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.secret_key.encode(), _CONTEXT, hashlib.sha256).digest()


def _sign(settings: Settings, payload: str) -> str:
    mac = hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def cookie_name(settings: Settings) -> str:
    return settings.cookie_name(DEVICE_COOKIE)


def read(settings: Settings, raw: str | None) -> Device | None:
    """The device the cookie vouches for, or None (absent, tampered, expired or malformed)."""
    if not raw or len(raw) > 300:
        return None
    parts = raw.split(".")
    if len(parts) != 4:
        return None
    user_id, device_id, expires, mac = parts
    if not hmac.compare_digest(_sign(settings, f"{user_id}.{device_id}.{expires}"), mac):
        return None
    try:
        if int(expires) < time.time():
            return None
        return Device(uuid.UUID(user_id), device_id)
    except ValueError:
        return None


def issue(settings: Settings, response: Response, user_id: uuid.UUID, known: Device | None) -> None:
    """Set (or extend) the device cookie after a successful sign-in; a known device keeps its id."""
    device_id = known.device_id if known is not None and known.user_id == user_id else secrets.token_urlsafe(12)
    expires = int(time.time()) + DEVICE_TTL_S
    payload = f"{user_id}.{device_id}.{expires}"
    response.set_cookie(cookie_name(settings), f"{payload}.{_sign(settings, payload)}", max_age=DEVICE_TTL_S,
                        path="/", httponly=True, secure=settings.cookie_secure, samesite="strict")
