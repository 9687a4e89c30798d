"""TCP check: a connection to a vetted address of host:port opens within the timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from xinex.kit import outbound
from xinex.monitors.checks import UP, CheckResult, down, elapsed_ms, from_outbound_error


async def open_vetted(host: str, port: int, timeout: float, allow_private: bool | None,
                      **kw: Any) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the first reachable vetted address of host:port; returns (reader, writer)."""
    addresses = await asyncio.wait_for(outbound.vet_tcp_target(host, port, allow_private=allow_private), timeout)
    last: Exception | None = None
    for addr in addresses:
        try:
            return await asyncio.wait_for(asyncio.open_connection(addr, port, **kw), timeout)
        except (OSError, TimeoutError) as exc:
            last = exc
    assert last is not None
    raise last


async def check(config: dict[str, Any], timeout: float, allow_private: bool | None) -> CheckResult:
    started = time.monotonic()
    try:
        _, writer = await open_vetted(config["host"], int(config["port"]), timeout, allow_private)
    except outbound.OutboundError as exc:
        return from_outbound_error(exc, started)
    except TimeoutError:
        return down("timeout", f"no connection within {timeout:g}s", elapsed_ms(started))
    except OSError as exc:
        return down("connect_failed", f"connection failed: {exc.strerror or type(exc).__name__}", elapsed_ms(started))
    latency = elapsed_ms(started)
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return CheckResult(UP, latency)
