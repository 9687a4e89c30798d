"""HTTP(S) check: status codes, keyword present/absent, through the SSRF-safe client."""

from __future__ import annotations

import time
from typing import Any

from xinex.kit import outbound
from xinex.monitors.checks import DEGRADED, UP, CheckResult, down, elapsed_ms, from_outbound_error
from xinex.monitors.schemas import status_matches

KEYWORD_WINDOW = 1024 * 1024  # the keyword is looked for in the first MiB of the body


async def check(config: dict[str, Any], timeout: float, allow_private: bool | None) -> CheckResult:
    started = time.monotonic()
    body = config.get("body")
    try:
        resp = await outbound.request(
            config.get("method", "GET"), config["url"], headers=dict(config.get("headers") or {}),
            content=body.encode() if body else None,
            timeouts=outbound.Timeouts(connect=min(timeout, 10.0), read=timeout, total=timeout),
            max_body=KEYWORD_WINDOW if config.get("keyword") else 64 * 1024,
            follow_redirects=bool(config.get("follow_redirects", True)), allow_private=allow_private)
    except outbound.OutboundError as exc:
        return from_outbound_error(exc, started)
    latency = elapsed_ms(started)
    details = {"final_url": resp.url} if resp.redirects else {}
    expected = config.get("expected_status") or ["200-299"]
    if not status_matches(resp.status_code, expected):
        return down("status_mismatch", f"HTTP {resp.status_code}, expected {', '.join(map(str, expected))}",
                    latency, status_code=resp.status_code, details=details)
    keyword = config.get("keyword")
    if keyword:
        found = keyword in resp.text
        if config.get("keyword_absent") and found:
            return CheckResult(DEGRADED, latency, resp.status_code, "keyword found in the response",
                               "keyword_present", details)
        if not config.get("keyword_absent") and not found:
            return CheckResult(DEGRADED, latency, resp.status_code, "keyword not found in the response",
                               "keyword_missing", details)
    return CheckResult(UP, latency, resp.status_code, details=details)
