"""Helpers for the long-running background loops (sweepers, schedulers, retriers)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("xinex.loops")

MAX_BACKOFF_S = 30.0
HEALTHY_RUN_S = 60.0  # a run that lasted this long was working: the next failure starts backoff over


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`, waking at once when `stop` is set; True when the loop should end."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        return False
    return True


async def supervise(name: str, start: Callable[[], Awaitable[None]], stop: asyncio.Event,
                    *, max_backoff: float = MAX_BACKOFF_S) -> None:
    """Run `start()` until `stop` is set, starting it again with exponential backoff whenever it
    raises or returns early: a loop that lost Redis or the database comes back with it instead of
    staying dead for the life of the process."""
    backoff = 1.0
    while not stop.is_set():
        began = time.monotonic()
        try:
            await start()
            if stop.is_set():
                return
            reason = "returned"
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, it must run again
            reason = f"failed ({type(exc).__name__})"  # the class only: a message may hold a URL
        if time.monotonic() - began >= HEALTHY_RUN_S:
            backoff = 1.0
        log.warning("%s %s; starting it again in %g s", name, reason, backoff)
        if await wait_or_stop(stop, backoff):
            return
        backoff = min(max_backoff, backoff * 2)
