"""The maintenance domain's background work.

`run_roller`, a long-running loop: keep each recurring window's row on its current or next occurrence, so the
incident engine's plain time-range lookup on maintenance_windows sees recurring windows too."""

from __future__ import annotations

import asyncio
import logging

from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.maintenance.service import roll_forward

log = logging.getLogger("xinex.maintenance.jobs")
SCOPE = "maintenance.roller"


async def run_roller(db: Database, stop: asyncio.Event, every: float = 1.0) -> None:
    while not stop.is_set():
        try:
            async with db.session(system=SCOPE) as session:
                await roll_forward(session)
        except Exception:
            log.exception("maintenance roll-forward failed")
        await wait_or_stop(stop, every)
