"""What APNs and FCM answer, normalised: delivered, dead token (forget it), retry later, or failed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ProviderResult:
    delivered: bool
    status: int | None = None  # the provider's HTTP status; None: no answer (timeout, reset, refused)
    reason: str | None = None  # the provider's reason / error code (never the device token)
    unregistered: bool = False  # the token is dead: delete it
    retryable: bool = False
    retry_after_s: float | None = None
    duration_ms: int | None = None

    def describe(self, provider: str) -> str:
        what = f"{provider} {self.status}" if self.status is not None else f"{provider}: no answer"
        return f"{what} {self.reason}".strip() if self.reason else what


class NotConfigured(Exception):
    """The operator has not set this provider up (XINEX_APNS_* / XINEX_FCM_*)."""


def scrub(text: str, *secrets: str) -> str:
    """A provider message with the device token (or any other secret) cut out."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text
