"""FCM HTTP v1 (`POST {fcm_url}/v1/projects/{project}/messages:send`) with an OAuth 2 access token.

The access token is minted from the service-account key with the JWT bearer grant (RFC 7523, what
google-auth does): an RS256 assertion (`iss` = client_email, `scope` firebase.messaging, `aud` = the
token URI, one hour) posted to the key's `token_uri`; it is reused until a minute before it expires, and
minted again when FCM answers 401.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from xinex.kit import outbound, transport
from xinex.push.providers import NotConfigured, ProviderResult, scrub
from xinex.settings import Settings

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# The FCM error code (google.firebase.fcm.v1.FcmError) that means the token is dead. INVALID_ARGUMENT means
# so only when its BadRequest field violations name the token: FCM answers it for a bad payload too (a
# value too large, a bad ttl), and that must not unregister every Android device a message goes to.
UNREGISTERED = "UNREGISTERED"
TOKEN_FIELD = "message.token"


@dataclass
class ServiceAccount:
    client_email: str
    private_key: str
    private_key_id: str | None
    token_uri: str
    project_id: str


def service_account(settings: Settings) -> ServiceAccount:
    raw = settings.fcm_service_account or (
        Path(settings.fcm_service_account_file).read_text() if settings.fcm_service_account_file else "")
    if not raw:
        raise NotConfigured("FCM is not configured (XINEX_FCM_SERVICE_ACCOUNT or _FILE)")
    try:
        data: dict[str, Any] = json.loads(raw)
        return ServiceAccount(client_email=data["client_email"], private_key=data["private_key"],
                              private_key_id=data.get("private_key_id"),
                              token_uri=settings.fcm_token_url or data.get("token_uri")
                              or "https://oauth2.googleapis.com/token",
                              project_id=settings.fcm_project_id or data["project_id"])
    except (ValueError, KeyError) as exc:
        raise NotConfigured(f"the FCM service-account key is not valid JSON with client_email, private_key and "
                            f"project_id ({type(exc).__name__})") from None


def configured(settings: Settings) -> bool:
    return bool(settings.fcm_service_account or settings.fcm_service_account_file)


class AccessToken:
    """The cached OAuth 2 access token (per process; minted under a per-loop lock so a fan-out mints once)."""

    def __init__(self) -> None:
        self._value: str | None = None
        self._expires_at = 0.0
        self._account: str | None = None
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, settings: Settings) -> str:
        account = service_account(settings)
        if self._fresh(account):
            assert self._value is not None
            return self._value
        lock = self._locks.setdefault(id(asyncio.get_running_loop()), asyncio.Lock())
        async with lock:
            if not self._fresh(account):
                self._value, lifetime = await _mint(settings, account)
                self._expires_at, self._account = time.time() + lifetime, account.client_email
            assert self._value is not None
            return self._value

    def _fresh(self, account: ServiceAccount) -> bool:
        return self._value is not None and self._account == account.client_email and time.time() < self._expires_at - 60

    def drop(self) -> None:
        self._value = None


ACCESS_TOKEN = AccessToken()


class TokenGrantFailed(Exception):
    def __init__(self, status: int | None, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


async def _mint(settings: Settings, account: ServiceAccount) -> tuple[str, float]:
    now = int(time.time())
    assertion = jwt.encode({"iss": account.client_email, "scope": SCOPE, "aud": account.token_uri,
                            "iat": now, "exp": now + 3600}, account.private_key, algorithm="RS256",
                           headers={"kid": account.private_key_id} if account.private_key_id else None)
    client = outbound.provider_client(ca_file=settings.push_ca_file)
    try:
        resp = await client.post(account.token_uri, data={"grant_type": GRANT, "assertion": assertion})
    except outbound.HTTPError as exc:
        raise TokenGrantFailed(None, f"token endpoint: {type(exc).__name__}") from None
    if resp.status_code != 200:
        raise TokenGrantFailed(resp.status_code, f"token endpoint answered {resp.status_code}")
    try:
        data = resp.json()
        return str(data["access_token"]), float(data.get("expires_in", 3600))
    except (ValueError, KeyError) as exc:
        raise TokenGrantFailed(200, "token endpoint answered without an access_token") from exc


async def send(settings: Settings, message: dict[str, Any], *, timeout: float = 10.0) -> ProviderResult:
    """`message`: the v1 `message` object (with its `token`)."""
    account = service_account(settings)
    device_token = str(message.get("token", ""))
    started = time.monotonic()
    try:
        access = await ACCESS_TOKEN.get(settings)
    except TokenGrantFailed as exc:
        # The grant failing is ours to fix (key revoked, clock) or the endpoint's (5xx): retried either way.
        return ProviderResult(False, exc.status, exc.reason, retryable=exc.status is None or exc.status >= 500
                              or exc.status == 429, duration_ms=_ms(started))
    url = f"{settings.fcm_url.rstrip('/')}/v1/projects/{account.project_id}/messages:send"
    client = outbound.provider_client(ca_file=settings.push_ca_file)
    try:
        resp = await client.post(url, content=json.dumps({"message": message}, separators=(",", ":")).encode(),
                                 headers={"authorization": f"Bearer {access}", "content-type": "application/json"},
                                 timeout=timeout)
    except outbound.HTTPError as exc:
        return ProviderResult(False, None, scrub(f"{type(exc).__name__}: {exc}", device_token)[:300],
                              retryable=True, duration_ms=_ms(started))
    ms = _ms(started)
    if resp.status_code == 200:
        return ProviderResult(True, 200, duration_ms=ms)
    code, fields = _error(resp.content)
    if code == UNREGISTERED or (code == "INVALID_ARGUMENT" and TOKEN_FIELD in fields):
        return ProviderResult(False, resp.status_code, code, unregistered=True, duration_ms=ms)
    if code == "INVALID_ARGUMENT":  # the message, not the token: a failed delivery, not retried
        named = ", ".join(sorted(f for f in fields if f)) or "not named"
        return ProviderResult(False, resp.status_code, scrub(f"{code} (field: {named})", device_token)[:300],
                              duration_ms=ms)
    if resp.status_code == 401:
        ACCESS_TOKEN.drop()
        return ProviderResult(False, 401, code or "UNAUTHENTICATED", retryable=True, duration_ms=ms)
    retry_after = transport.retry_after_s(dict(resp.headers)) if resp.status_code in (429, 503) else None
    return ProviderResult(False, resp.status_code, scrub(code or "", device_token)[:300] or None,
                          retryable=transport.classify(resp.status_code), retry_after_s=retry_after, duration_ms=ms)


def _error(content: bytes) -> tuple[str | None, set[str]]:
    """FcmError.errorCode from the details when present (UNREGISTERED…), else the google.rpc status; and the
    fields the error's google.rpc.BadRequest violations name."""
    try:
        error = json.loads(content or b"{}").get("error") or {}
    except (ValueError, AttributeError):
        return None, set()
    if not isinstance(error, dict):
        return None, set()
    code: str | None = None
    fields: set[str] = set()
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        if detail.get("errorCode") and code is None:
            code = str(detail["errorCode"])[:60]
        for violation in detail.get("fieldViolations") or []:
            if isinstance(violation, dict) and violation.get("field"):
                fields.add(str(violation["field"])[:100])
    status = error.get("status")
    return code or (str(status)[:60] if status else None), fields


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
