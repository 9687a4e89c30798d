"""APNs over HTTP/2 with token-based authentication (Apple: "Sending notification requests to APNs").

The provider token is an ES256 JWT (`kid` = key id, `iss` = team id, `iat`) signed with the .p8 key;
Apple refuses one older than an hour and throttles one renewed more often than every 20 minutes, so it
is reused for 50 minutes. Every request carries `apns-push-type`, `apns-priority`, `apns-topic`,
`apns-expiration`, `apns-collapse-id` (the incident: a later page replaces the earlier one on the
lock screen) and `apns-id` (the ledger attempt: the same on every retry of one delivery).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt

from xinex.kit import outbound, transport
from xinex.push.providers import NotConfigured, ProviderResult, scrub
from xinex.settings import Settings

TOKEN_REUSE_S = 50 * 60
# 400 reasons that mean the token itself is dead (Apple: "Handling notification responses from APNs").
DEAD_TOKEN_REASONS = {"BadDeviceToken"}
# 403 reasons that mean our provider token is stale: mint a new one and try again.
STALE_PROVIDER_TOKEN = {"ExpiredProviderToken", "InvalidProviderToken"}


class ProviderToken:
    """The cached ES256 provider JWT (one per process; renewed after TOKEN_REUSE_S or when refused)."""

    def __init__(self) -> None:
        self._value: str | None = None
        self._issued_at = 0.0
        self._identity: tuple[str, str, str] | None = None

    def get(self, settings: Settings, now: float | None = None) -> str:
        now = time.time() if now is None else now
        key = _private_key(settings)
        identity = (settings.apns_key_id, settings.apns_team_id, key)
        if self._value is None or identity != self._identity or now - self._issued_at >= TOKEN_REUSE_S:
            self._value = jwt.encode({"iss": settings.apns_team_id, "iat": int(now)}, key, algorithm="ES256",
                                     headers={"kid": settings.apns_key_id})
            self._issued_at, self._identity = now, identity
        return self._value

    def drop(self) -> None:
        self._value = None


PROVIDER_TOKEN = ProviderToken()


def _private_key(settings: Settings) -> str:
    if settings.apns_private_key:
        return settings.apns_private_key
    if settings.apns_private_key_file:
        return Path(settings.apns_private_key_file).read_text()
    raise NotConfigured("APNs is not configured (XINEX_APNS_PRIVATE_KEY or _FILE)")


def configured(settings: Settings) -> bool:
    return bool(settings.apns_key_id and settings.apns_team_id and settings.apns_topic
                and (settings.apns_private_key or settings.apns_private_key_file))


def base_url(settings: Settings, environment: str) -> str:
    return (settings.apns_url_sandbox if environment == "sandbox" else settings.apns_url_production).rstrip("/")


async def send(settings: Settings, device_token: str, environment: str, payload: dict[str, Any], *, priority: int,
               collapse_id: str | None, expiration: int, apns_id: str,
               timeout: float = 10.0) -> ProviderResult:
    if not configured(settings):
        raise NotConfigured("APNs is not configured (XINEX_APNS_KEY_ID, _TEAM_ID, _TOPIC, _PRIVATE_KEY)")
    headers = {
        "authorization": f"bearer {PROVIDER_TOKEN.get(settings)}",
        "apns-push-type": "alert",
        "apns-priority": str(priority),
        "apns-topic": settings.apns_topic,
        "apns-expiration": str(expiration),
        "apns-id": apns_id,
        "content-type": "application/json",
    }
    if collapse_id:
        headers["apns-collapse-id"] = collapse_id[:64]
    body = json.dumps(payload, separators=(",", ":")).encode()
    client = outbound.provider_client(ca_file=settings.push_ca_file)
    started = time.monotonic()
    try:
        resp = await client.post(f"{base_url(settings, environment)}/3/device/{device_token}", content=body,
                                 headers=headers, timeout=timeout)
    except outbound.HTTPError as exc:
        return ProviderResult(False, None, scrub(f"{type(exc).__name__}: {exc}", device_token)[:300],
                              retryable=True, duration_ms=_ms(started))
    ms = _ms(started)
    if resp.status_code == 200:
        return ProviderResult(True, 200, duration_ms=ms)
    reason = _reason(resp.content)
    retry_after = transport.retry_after_s(dict(resp.headers)) if resp.status_code in (429, 503) else None
    if resp.status_code == 410 or (resp.status_code == 400 and reason in DEAD_TOKEN_REASONS):
        return ProviderResult(False, resp.status_code, reason or "Unregistered", unregistered=True, duration_ms=ms)
    if resp.status_code == 403 and reason in STALE_PROVIDER_TOKEN:
        PROVIDER_TOKEN.drop()
        return ProviderResult(False, 403, reason, retryable=True, duration_ms=ms)
    return ProviderResult(False, resp.status_code, scrub(reason or "", device_token)[:300] or None,
                          retryable=transport.classify(resp.status_code), retry_after_s=retry_after, duration_ms=ms)


def _reason(content: bytes) -> str | None:
    try:
        reason = json.loads(content or b"{}").get("reason")
    except (ValueError, AttributeError):
        return None
    return str(reason)[:100] if reason else None


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
