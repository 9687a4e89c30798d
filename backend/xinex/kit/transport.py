"""HTTP delivery for notification channels and outgoing webhooks: post, a normalised result, retries.

`post_json` / `post_bytes` hand the request to the platform's SSRF-safe client (`kit/outbound.py`)
and answer an `HttpResult` whether the peer answered or not, so senders (notify's channels, the
webhook dispatcher, a push provider) decide about retries the same way: `classify` and
`retry_after_s`. It lives in kit because both notify and webhooks deliver through it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

EXCERPT_BYTES = 1024
TIMEOUT_S = 10.0


@dataclass
class HttpResult:
    status: int | None  # None: no response (timeout, refused, blocked target)
    duration_ms: int
    excerpt: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def classify(status: int | None, *, blocked: bool = False) -> bool:
    """Retry on 429, 5xx, timeouts and connection failures; never on other 4xx or refused targets."""
    if blocked:
        return False
    if status is None:
        return True
    return status == 429 or status >= 500


async def post_json(url: str, payload: dict[str, Any] | list[Any] | str, headers: dict[str, str] | None = None,
                    *, timeout: float = TIMEOUT_S) -> HttpResult:
    body = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
    return await post_bytes(url, body.encode(), {"content-type": "application/json", **(headers or {})},
                            timeout=timeout)


async def post_bytes(url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_S) -> HttpResult:
    started = time.monotonic()
    try:
        status, resp_headers, content = await _adapter(url, body, headers, timeout)
    except TargetRefused as exc:
        return HttpResult(None, _ms(started), error=f"target refused: {exc}"[:500], retryable=False)
    except Exception as exc:  # timeouts, resets, DNS: the peer never answered
        return HttpResult(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500], retryable=True)
    text = content[:EXCERPT_BYTES].decode("utf-8", "replace")
    return HttpResult(status, _ms(started), excerpt=text, headers=resp_headers, retryable=classify(status))


class TargetRefused(Exception):
    """The SSRF guard (xinex.kit.outbound) refused the destination."""


async def _adapter(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Every notification and webhook leaves through the platform's one SSRF-safe client."""
    from xinex.kit import outbound

    try:
        resp = await outbound.request(
            "POST", url, headers=headers, content=body, follow_redirects=False, max_body=EXCERPT_BYTES * 4,
            timeouts=outbound.Timeouts(connect=min(5.0, timeout), read=timeout, total=timeout),
        )
    except outbound.OutboundBlocked as exc:
        raise TargetRefused(str(exc)) from None  # names the address and the setting that allows it
    return resp.status_code, dict(resp.headers), resp.content[:EXCERPT_BYTES]


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def retry_after_s(headers: dict[str, str]) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from xinex.kit.types import utcnow

    return max(0.0, (when - utcnow()).total_seconds())
