"""The check runners. A check spec is plain JSON (type, config, timeout, latency threshold) so the
platform scheduler and a remote `xinex probe` run exactly the same code."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from xinex.kit import outbound
from xinex.kit.types import utcnow

UP, DEGRADED, DOWN = "up", "degraded", "down"
MAX_ERROR = 500


@dataclass
class CheckResult:
    status: str  # up | degraded | down
    latency_ms: float = 0.0
    status_code: int | None = None
    error: str = ""  # human, short, never a response body
    reason: str = "ok"  # machine: ok, slow, status_mismatch, keyword_missing, private_address, …
    details: dict[str, str] = field(default_factory=dict)
    checked_at: datetime = field(default_factory=utcnow)
    check_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self) -> dict[str, Any]:
        return {"check_id": str(self.check_id), "checked_at": self.checked_at.isoformat(), "status": self.status,
                "latency_ms": self.latency_ms, "status_code": self.status_code, "error": self.error,
                "reason": self.reason, "details": self.details}


def down(reason: str, error: str, latency_ms: float = 0.0, **kw: Any) -> CheckResult:
    return CheckResult(DOWN, latency_ms=latency_ms, error=error[:MAX_ERROR], reason=reason, **kw)


def from_outbound_error(exc: outbound.OutboundError, started: float) -> CheckResult:
    prefix = "target refused: " if isinstance(exc, outbound.OutboundBlocked) else ""
    return down(exc.reason, f"{prefix}{exc}", elapsed_ms(started))


def elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 3)


async def run_check(spec: dict[str, Any], *, allow_private: bool | None = None) -> CheckResult:
    """Run one check described by `spec` = {type, config, timeout, latency_threshold_ms}."""
    from xinex.monitors.checks import dns, http, tcp, tls

    runner = {"http": http.check, "tcp": tcp.check, "dns": dns.check, "tls": tls.check}.get(spec.get("type", ""))
    if runner is None:
        return down("unknown_type", f"unknown monitor type {spec.get('type')!r}")
    checked_at = utcnow()
    result = await runner(spec.get("config") or {}, float(spec.get("timeout") or 10.0), allow_private)
    result.checked_at = checked_at
    threshold = spec.get("latency_threshold_ms")
    if result.status == UP and threshold and result.latency_ms > threshold:
        result.status, result.reason = DEGRADED, "slow"
        result.error = f"response took {result.latency_ms:.0f} ms (threshold {threshold} ms)"
    return result
