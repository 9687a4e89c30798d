"""`xinex probe`: the remote agent. Pulls its region's due checks, runs them with the platform's
check code (and this host's SSRF policy), posts the results; repeats."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from xinex.kit import outbound
from xinex.kit.loops import wait_or_stop
from xinex.monitors.checks import CheckResult, run_check

log = logging.getLogger("xinex.probe")
POLL_S = 2.0
MAX_CONCURRENT = 50


def _payload(spec: dict[str, Any], result: CheckResult) -> dict[str, Any]:
    data = result.to_json()
    data.pop("reason", None)
    return {**data, "monitor_id": spec["monitor_id"], "reason": result.reason[:60],
            "details": {k: str(v)[:500] for k, v in list(result.details.items())[:20]}}


async def run_once(client: outbound.PlatformClient, *, allow_private: bool | None = None) -> int:
    """One round: fetch assignments, run them concurrently, post the results. Returns checks run."""
    resp = await client.get("/api/v1/probe/assignments")
    resp.raise_for_status()
    specs = resp.json()["items"]
    if not specs:
        return 0
    gate = asyncio.Semaphore(MAX_CONCURRENT)

    async def one(spec: dict[str, Any]) -> dict[str, Any]:
        async with gate:
            return _payload(spec, await run_check(spec, allow_private=allow_private))

    results = await asyncio.gather(*(one(s) for s in specs))
    posted = await client.post("/api/v1/probe/results", json={"results": results})
    posted.raise_for_status()
    return len(results)


def client_for(url: str, token: str, transport: outbound.Transport | None = None) -> outbound.PlatformClient:
    return outbound.platform_client(url, token, timeout=30.0, transport=transport)


async def run_probe(url: str, token: str, *, once: bool = False, poll_s: float = POLL_S,
                    stop: asyncio.Event | None = None, transport: outbound.Transport | None = None) -> int:
    stop = stop or asyncio.Event()
    total = 0
    async with client_for(url, token, transport) as client:
        while not stop.is_set():
            try:
                ran = await run_once(client)
                total += ran
            except outbound.HTTPStatusError as exc:
                if exc.response.status_code == 401:
                    log.error("the platform refused this prober token")
                    return total
                log.warning("probe round failed: HTTP %s", exc.response.status_code)
                ran = 0
            except outbound.HTTPError as exc:
                log.warning("probe round failed: %s", type(exc).__name__)
                ran = 0
            if once:
                return total
            if not ran:
                await wait_or_stop(stop, poll_s)
    return total
