"""Request and response shapes of /push-tokens."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from xinex.kit.types import NulFreeStr, UTCDatetime

# APNs device tokens are hex (32 bytes today; Apple says they may grow); FCM registration tokens are
# URL-safe base64 with ':' separators.
_APNS_TOKEN = re.compile(r"^[0-9a-fA-F]{64,200}$")
_FCM_TOKEN = re.compile(r"^[A-Za-z0-9:_\-.]{20,1024}$")

EXAMPLE: dict[str, Any] = {
    "id": "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    "token": "a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "platform": "ios",
    "apns_environment": "production",
    "critical_alerts": True,
    "app_version": "2.4.0",
    "device_name": "Ana's iPhone",
    "locale": "en-GB",
    "signed_in_with": "mobile",
    "created_at": "2026-12-05T03:40:00Z",
    "last_registered_at": "2026-12-05T03:40:00Z",
}


class PushTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "token": EXAMPLE["token"], "platform": "ios", "app_version": "2.4.0", "device_name": "Ana's iPhone",
        "locale": "en-GB", "critical_alerts": True}]})

    # platform first: the token's shape is checked against it.
    platform: Literal["ios", "android"]
    token: NulFreeStr = Field(min_length=20, max_length=1024,
                              description="APNs device token (hex; stored in lower case) or FCM registration token")
    app_version: NulFreeStr | None = Field(default=None, max_length=50)
    device_name: NulFreeStr | None = Field(default=None, max_length=200)
    locale: NulFreeStr | None = Field(default=None, max_length=35, pattern=r"^[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8})*$")
    apns_environment: Literal["production", "sandbox"] = Field(
        default="production", description="iOS: which APNs environment issued the token (sandbox for development "
                                          "builds); ignored for Android")
    critical_alerts: bool = Field(default=False, description="iOS: the user allowed critical alerts, so critical "
                                                             "pages break through Do Not Disturb")

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        if platform == "ios":
            if not _APNS_TOKEN.fullmatch(value):
                raise ValueError("not an APNs device token (64 to 200 hex digits)")
            return value.lower()  # hex is case-free: one phone is one device, however the app spells it
        if platform == "android" and not _FCM_TOKEN.fullmatch(value):
            raise ValueError("not an FCM registration token (letters, digits, ':', '_', '-', '.')")
        return value


class PushTokenOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    id: uuid.UUID
    token: str
    platform: Literal["ios", "android"]
    apns_environment: Literal["production", "sandbox"]
    critical_alerts: bool
    app_version: str | None
    device_name: str | None
    locale: str | None
    signed_in_with: Literal["mobile", "other"] = Field(
        description="mobile: registered by a mobile sign-in, unregistered when that sign-in is revoked")
    created_at: UTCDatetime
    last_registered_at: UTCDatetime


def is_apns_token(value: str) -> bool:
    return _APNS_TOKEN.fullmatch(value) is not None
