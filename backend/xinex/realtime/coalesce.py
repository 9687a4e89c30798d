"""Live state updates that can come by the thousand a second (heartbeat pings, monitor check results),
coalesced: the latest state per subject is kept, and each window's states of one tenant and one kind go
out as ONE event (`{"type": "heartbeat.updated", "heartbeats": [...]}`), at most once per `WINDOW_S`,
all of them in one Redis pipeline. The hot path (the ping writer, the check recorder) only puts a dict
in a dict — no Redis round trip and no message per ping. A state is a snapshot of its subject, so
dropping the intermediate ones of one window loses nothing a screen shows (the page's ping log is
refetched on the event). Best effort like every live event: a client that misses one resyncs on
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
MAX_PER_EVENT = 500  # states per message: bounds one frame's size


class Coalescer:
    """One per event loop (`coalescer()`): the pending states, and the task that sends them."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        # (tenant, event type, list key) -> subject id -> state; dicts keep the order of first change.
        self._pending: dict[tuple[uuid.UUID, str, str], dict[str, dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.flushes = 0  # for tests and the benchmark

    def offer(self, tenant_id: uuid.UUID, event_type: str, key: str, state: dict[str, Any]) -> None:
        """Queue `state` (with an "id") for the next `event_type` event of the tenant, under `key`
        ("heartbeats"); it replaces that subject's state not yet sent."""
        self._pending.setdefault((tenant_id, event_type, key), {})[str(state["id"])] = state
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
        events: list[tuple[uuid.UUID, dict[str, Any]]] = []
        for (tenant_id, event_type, key), states in pending.items():
            items = list(states.values())
            for i in range(0, len(items), MAX_PER_EVENT):
                events.append((tenant_id, {"type": event_type, key: items[i:i + MAX_PER_EVENT]}))
        try:
            await publish_many(events)
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


def offer(tenant_id: uuid.UUID, event_type: str, key: str, state: dict[str, Any]) -> None:
    coalescer().offer(tenant_id, event_type, key, state)


def offer_after_commit(session: AsyncSession, event_type: str, key: str,
                       states: list[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    """`offer` these (tenant, state) once `session` commits; nothing if it rolls back."""
    if not states:
        return

    async def _offer() -> None:
        current = coalescer()
        for tenant_id, state in states:
            current.offer(tenant_id, event_type, key, state)

    after_commit(session, _offer)
