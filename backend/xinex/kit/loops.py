"""The long-running background loops (sweepers, schedulers, retriers, the outbox consumer): one runtime.

Each domain's `mount.BACKGROUND` lists its loops — a `Loop`, or a plain `async def fn(db, stop)`,
named after its module and function. `routes.BACKGROUND_TASKS` gathers them, and both `xinex worker`
and `xinex run` (the app's lifespan, when jobs run in-process) start them with `start`: each one
supervised, so a loop that fails in a way its own error handling did not expect, or loses Redis or the
database for good, is started again with backoff instead of staying dead for the life of the process.
Jobs (`kit/jobs.py`) are the other half of the runtime: mounts declare them in `JOBS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

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


LoopFn = Callable[[Any, asyncio.Event], Awaitable[None]]  # fn(db: kit.db.Database, stop)


@dataclass(frozen=True)
class Loop:
    """A named long-running loop. `embedded_only`: runs inside `xinex run` only (e.g. the OTLP
    receivers, which own their ports; `xinex otlp` runs them in production). `restart`: supervised
    (started again when it fails or returns before `stop`); off for a loop whose early return is
    final (a port that is taken stays taken)."""

    name: str
    fn: LoopFn
    embedded_only: bool = False
    restart: bool = True

    @classmethod
    def of(cls, item: Loop | LoopFn) -> Loop:
        """A `Loop` as is; a plain function named `<module>.<function>`."""
        if isinstance(item, Loop):
            return item
        return cls(f"{item.__module__}.{getattr(item, '__name__', repr(item))}", item)


def start(loops: Iterable[Loop | LoopFn], db: Any, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Start every loop as a task of the running event loop; each ends once `stop` is set."""
    return [asyncio.create_task(_run(Loop.of(item), db, stop), name=Loop.of(item).name) for item in loops]


async def _run(loop: Loop, db: Any, stop: asyncio.Event) -> None:
    if not loop.restart:
        await loop.fn(db, stop)
        return

    def begin() -> Awaitable[None]:
        return loop.fn(db, stop)

    await supervise(loop.name, begin, stop)
