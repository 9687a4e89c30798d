"""The webhooks domain's background work (webhooks/mount.py declares it; kit/loops.py and kit/jobs.py run it).

- `deliver_webhook`, a job (enqueued after the commit that creates a delivery): one attempt.
- `run_dispatcher`, a long-running loop: attempt every delivery that is due — retries, and pending
  rows whose job was lost (dispatcher.dispatch_due; a compare-and-set lease keeps one sender per attempt).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from xinex.kit.db import Database
from xinex.kit.jobs import job
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.webhooks import dispatcher

log = logging.getLogger("xinex.webhooks")

POLL_S = 1.0


@job(name=dispatcher.DELIVER_WEBHOOK)  # the name it always had: jobs already on Redis keep finding it
async def deliver_webhook(ctx: dict[str, Any], delivery_id: str, tenant_id: str) -> None:
    await dispatcher.attempt(ctx["db"], uuid.UUID(delivery_id), uuid.UUID(tenant_id))


async def run_dispatcher(db: Database, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await dispatcher.dispatch_due(db, utcnow() - timedelta(seconds=2))  # leave fresh rows to their jobs
        except Exception:
            log.exception("webhook dispatcher pass failed")
        await wait_or_stop(stop, POLL_S)
