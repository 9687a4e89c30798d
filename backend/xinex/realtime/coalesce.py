"""Live events that can come by the thousand a second (heartbeat pings, monitor check results),
coalesced: the latest event per subject is kept and they are sent together, at most once per
`WINDOW_S`, in one Redis pipeline. The hot path (the ping writer, the check recorder) only puts a
dict in a dict — no Redis round trip per ping. An event is a snapshot of its subject's state, so
dropping the intermediate ones of one window loses nothing a screen shows; the page's ping log is
refetched on the event. Best effort like every live event: a client that misses one resyncs on
reconnect, and the lists are refetched every 30 s anyway.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.realtime.bus import publish_many

log = logging.getLogger("xinex.realtime")

WINDOW_S = 0.2  # a ping reaches the browser within this much of its commit, plus the socket's latency


class Coalescer:
    """One per event loop (`coalescer()`): the pending events, and the task that sends them."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._pending: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0  # for tests and the benchmark

    def offer(self, tenant_id: uuid.UUID, subject: str, event: dict[str, Any]) -> None:
        """Queue `event` about `subject` (e.g. "heartbeat:<id>"); replaces one not yet sent."""
        key = (tenant_id, subject)
        self._pending.pop(key, None)  # re-inserted last: events go out in the order of their last change
        self._pending[key] = event
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later(), name="realtime-coalescer")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.window_s)
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        if not pending:
            return
        self.flushes += 1
        try:
            await publish_many([(tenant_id, event) for (tenant_id, _), event in pending.items()])
        except Exception:
            log.exception("real-time publish failed")


_COALESCERS: dict[int, tuple[asyncio.AbstractEventLoop, Coalescer]] = {}


def coalescer() -> Coalescer:
    """The running event loop's coalescer (a test's fresh loop gets a fresh one, never one whose
    task belongs to a closed loop)."""
    loop = asyncio.get_running_loop()
    current = _COALESCERS.get(id(loop))
    if current is None or current[0] is not loop:
        for key, (old, _) in list(_COALESCERS.items()):
            if old.is_closed():
                del _COALESCERS[key]
        current = _COALESCERS[id(loop)] = (loop, Coalescer())
    return current[1]


def offer(tenant_id: uuid.UUID, subject: str, event: dict[str, Any]) -> None:
    coalescer().offer(tenant_id, subject, event)


def offer_after_commit(session: AsyncSession, items: list[tuple[uuid.UUID, str, dict[str, Any]]]) -> None:
    """`offer` these (tenant, subject, event) once `session` commits; nothing if it rolls back."""
    if not items:
        return

    async def _offer() -> None:
        for tenant_id, subject, event in items:
            offer(tenant_id, subject, event)

    after_commit(session, _offer)
