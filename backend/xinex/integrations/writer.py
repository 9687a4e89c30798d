"""The inbound hot path's group commit (kit/groupcommit.py) for accepted alerts.

Profiling `POST /v2/enqueue` showed each request paying for its own transaction twice over: a
system-scoped SELECT of the integration by key hash (plus the tenant binding round trips), then
the INSERT of its outbox row and its own COMMIT (an fsync). Like the heartbeat pings
(heartbeats/writer.py), the requests that arrive while one transaction commits now go into the
next one, so a burst of N events costs one INSERT round and one COMMIT; each request is answered
only after the transaction holding its outbox rows committed (durable before the 202).

The integration a key belongs to is cached per process (repository.by_key, KEY_TTL seconds); the
management use cases (update, rotate, delete) clear the cache of their process, so a rotated key
stops working at once there and within KEY_TTL in the other API processes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.events.outbox import insert_rows
from xinex.integrations.formats import InboundAlert
from xinex.integrations.service import alert_rows, last_event_due
from xinex.kit.db import Database
from xinex.kit.groupcommit import MAX_BATCH, GroupCommitWriter, close_writer_on_loop, writer_on_loop
from xinex.kit.types import utcnow
from xinex.models.integrations import Integration

SCOPE = "integrations.inbound"  # a batch holds events of many tenants (each row names its own)
STATE_KEY = "inbound_writer"

Accepted = tuple[Integration, list[InboundAlert]]


class InboundWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._writer: GroupCommitWriter[Accepted, list[str]] = GroupCommitWriter(
            db, self._prepare, scope=SCOPE, what="the alert", max_batch=max_batch)
        self._last: datetime | None = None  # created_at of the newest event written

    @property
    def batches(self) -> int:
        """Committed transactions, for tests and the benchmark."""
        return self._writer.batches

    async def submit(self, i: Integration, alerts: list[InboundAlert]) -> list[str]:
        """Store the alerts' outbox events; returns once they are committed (the senders' keys, in order)."""
        return await self._writer.submit((i, alerts))

    async def close(self) -> None:
        await self._writer.close()

    async def _prepare(self, session: AsyncSession, items: list[Accepted]) -> Sequence[list[str]]:
        now = utcnow()
        touched: set[uuid.UUID] = set()
        rows = []
        for i, alerts in items:
            for row in alert_rows(i, alerts, now):
                # The claim orders a key's events by (created_at, id) and the id is random: events
                # written one after the other get strictly increasing times, so arrival order is kept.
                if self._last is not None and row["created_at"] <= self._last:
                    row["created_at"] = row["updated_at"] = self._last + timedelta(microseconds=1)
                self._last = row["created_at"]
                rows.append(row)
            if last_event_due(i, now):
                touched.add(i.id)
        await insert_rows(session, rows)
        if touched:
            await session.execute(update(Integration).where(col(Integration.id).in_(list(touched)))
                                  .values(last_event_at=now).execution_options(synchronize_session=False))
        return [[a.key for a in alerts] for _, alerts in items]


def writer_for(app: Any) -> InboundWriter:
    """The app's writer on the running event loop (kit.groupcommit.writer_on_loop)."""
    writer: InboundWriter = writer_on_loop(app, STATE_KEY, lambda: InboundWriter(app.state.db))
    return writer


async def close_writer(app: Any) -> None:
    await close_writer_on_loop(app, STATE_KEY)
