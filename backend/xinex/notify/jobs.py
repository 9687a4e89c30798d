"""The notify domain's background work (notify/mount.py declares it): retries of notification attempts left "retrying" (429, 5xx, timeouts) when they fall due, and
take-overs of attempts left "sending" by a run that died mid-send once its lease has run out.

`retry_due(db, now)` does one pass (tests drive it with their own clock); `run_retrier` is the
long-running loop. Several copies are safe: each row is taken by compare-and-set.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime

from xinex.kit.db import Database
from xinex.kit.loops import wait_or_stop
from xinex.kit.types import utcnow
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.notify import delivery, ledger
from xinex.notify.channels.push import DEVICE_TARGET_PREFIX, get_push_sender
from xinex.notify.ledger import Outcome
from xinex.notify.message import NotificationMessage

log = logging.getLogger("xinex.notify.retrier")
SCOPE = "notify.retrier"
POLL_S = 1.0
BATCH = 100


async def retry_due(db: Database, now: datetime | None = None, limit: int = BATCH) -> int:
    now = now or utcnow()
    async with db.session(system=SCOPE) as session:
        rows = (await session.execute(ledger.claimable_rows(now).order_by(NotificationAttempt.next_attempt_at)
                                      .limit(limit))).all()
    done = 0
    for attempt_id, tenant_id in rows:
        try:
            if await _retry_one(db, attempt_id, tenant_id, now):
                done += 1
        except Exception:
            log.exception("notification retry failed", extra={"attempt_id": str(attempt_id)})
    return done


async def _retry_one(db: Database, attempt_id: uuid.UUID, tenant_id: uuid.UUID, now: datetime) -> bool:
    async with db.session(tenant_id=tenant_id) as session:
        row = await session.get(NotificationAttempt, attempt_id)
        if row is None:
            return False
        row = await ledger.take(session, row, now)
        if row is None:
            return False
        message = NotificationMessage.from_json(row.message)
        if row.target.startswith(DEVICE_TARGET_PREFIX):
            outcome = await get_push_sender().deliver_device(session, row, message)
        elif row.channel_id is not None:
            channel = await session.get(NotificationChannel, row.channel_id)
            if channel is None or not channel.enabled:
                outcome = Outcome("skipped", error="channel deleted or disabled")
            else:
                outcome = await delivery.to_channel(session, channel, message, row.id)
        else:
            from xinex.notify.send import deliver_user_medium

            outcome = await deliver_user_medium(session, row.user_id, row.kind, message)
        await ledger.finish(session, row, outcome, now)
        return True


async def run_retrier(db: Database, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await retry_due(db)
        except Exception:
            log.exception("notification retrier pass failed")
        await wait_or_stop(stop, POLL_S)
