"""The on-call domain's background work (oncall/mount.py declares it; kit/loops.py and kit/jobs.py run it).

- `deliver_page`, a job (enqueued after the commit that creates a page): claim, send, record — the
  delivery itself is `paging.deliver_page` (docs/delivery.md).
- `run_escalations`, a long-running loop: fire the due escalation steps of every triggered incident,
  then re-enqueue pages whose job died or is backing off (`paging.sweep_pages`).
"""

from __future__ import annotations

import asyncio
import logging

from xinex.kit.db import Database
from xinex.kit.jobs import job
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.oncall import escalation, paging

log = logging.getLogger("xinex.oncall.escalation")

MAX_SLEEP_S = escalation.MAX_SLEEP_S

# Registered under the name it always had: page jobs already on Redis keep finding it.
deliver_page = job(name=paging.DELIVER_PAGE)(paging.deliver_page)


async def run_escalations(db: Database, stop: asyncio.Event, max_sleep: float = MAX_SLEEP_S) -> None:
    """The long-running loop (embedded: app lifespan; production: the worker)."""
    while not stop.is_set():
        wait = max_sleep
        try:
            await escalation.run_due(db)
            await paging.sweep_pages(db)
            upcoming = await escalation.next_due(db)
            if upcoming is not None:
                wait = min(max_sleep, (upcoming - utcnow()).total_seconds())
        except Exception:
            log.exception("escalation pass failed")
            wait = 1.0
        await wait_or_stop(stop, wait)
