"""TLS certificate check: the chain verifies for the host name and expires later than warn_days.

Invalid or expired → down; expiring within warn_days → degraded.
"""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from typing import Any

from xinex.kit import outbound
from xinex.monitors.checks import DEGRADED, UP, CheckResult, down, elapsed_ms, from_outbound_error
from xinex.monitors.checks.tcp import open_vetted


def _context(ca_pem: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()


def _not_after(cert: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), UTC)


async def check(config: dict[str, Any], timeout: float, allow_private: bool | None) -> CheckResult:
    started = time.monotonic()
    host, port = config["host"], int(config.get("port") or 443)
    try:
        _, writer = await open_vetted(host, port, timeout, allow_private, ssl=_context(config.get("ca_pem")),
                                      server_hostname=host)
    except outbound.OutboundError as exc:
        return from_outbound_error(exc, started)
    except ssl.SSLCertVerificationError as exc:
        reason = "certificate_expired" if exc.verify_code == 10 else "certificate_invalid"
        return down(reason, f"certificate rejected: {exc.verify_message}", elapsed_ms(started))
    except ssl.SSLError as exc:
        return down("tls_error", f"TLS handshake failed: {exc.reason or type(exc).__name__}", elapsed_ms(started))
    except TimeoutError:
        return down("timeout", f"no TLS handshake within {timeout:g}s", elapsed_ms(started))
    except OSError as exc:
        return down("connect_failed", f"connection failed: {exc.strerror or type(exc).__name__}", elapsed_ms(started))
    latency = elapsed_ms(started)
    cert = writer.get_extra_info("peercert") or {}
    writer.close()
    try:
        await writer.wait_closed()
    except (OSError, ssl.SSLError):
        pass
    expires = _not_after(cert)
    days = (expires - datetime.now(UTC)).total_seconds() / 86400
    details = {"expires_at": expires.isoformat().replace("+00:00", "Z"), "days_left": f"{days:.1f}"}
    warn = int(config.get("warn_days", 14))
    if days < warn:
        return CheckResult(DEGRADED, latency, error=f"certificate expires in {days:.1f} days",
                           reason="certificate_expiring", details=details)
    return CheckResult(UP, latency, details=details)
