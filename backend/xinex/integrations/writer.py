"""The inbound hot path: a cached key lookup and a group-commit writer for accepted alerts.

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

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from xinex.integrations.formats import InboundAlert
from xinex.integrations.service import emit_alerts, last_event_due
from xinex.kit.db import Database, commit
from xinex.kit.errors import AppError, unavailable_error
from xinex.kit.tenancy import system_scope
from xinex.kit.types import utcnow
from xinex.models.integrations import Integration

log = logging.getLogger(__name__)

MAX_BATCH = 500  # requests per transaction
SCOPE = "integrations.inbound"  # a batch holds events of many tenants (each row names its own)

class InboundWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[tuple[Integration, list[InboundAlert], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and the benchmark

    async def submit(self, i: Integration, alerts: list[InboundAlert]) -> list[str]:
        """Store the alerts' outbox events; returns once they are committed (the senders' keys, in order)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((i, alerts, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="integrations-inbound-writer")
        self._wake.set()
        await future
        return [a.key for a in alerts]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for _, _, future in self._queue:
            if not future.done():
                future.set_exception(AppError("SERVICE_UNAVAILABLE", "the server is shutting down; retry"))
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                group, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
                try:
                    await self._write(group)
                except Exception as exc:  # a bug here must fail its requests, not hang them
                    log.exception("inbound alert writer failed")
                    for _, _, future in group:
                        _settle(future, _as_app_error(exc))

    async def _write(self, group: list[tuple[Integration, list[InboundAlert], asyncio.Future[None]]]) -> None:
        now = utcnow()
        session = self._db.sessionmaker()
        try:
            await system_scope(session, SCOPE)
            touched: set[uuid.UUID] = set()
            last = None
            for i, alerts, _ in group:
                for event in emit_alerts(session, i, alerts, now):
                    # The claim orders a key's events by (created_at, id) and the id is random: events
                    # written together get strictly increasing times, so arrival order is kept.
                    if last is not None and event.created_at <= last:
                        event.created_at = last + timedelta(microseconds=1)
                    last = event.created_at
                if last_event_due(i, now):
                    touched.add(i.id)
            if touched:
                await session.execute(update(Integration).where(col(Integration.id).in_(list(touched)))
                                      .values(last_event_at=now).execution_options(synchronize_session=False))
            await commit(session)
        except Exception as exc:  # noqa: BLE001 - the batch is lost as a whole; each sender retries
            await session.rollback()
            if len(group) > 1 and not isinstance(exc, (OSError, ConnectionError)):
                log.warning("inbound alert batch of %d failed (%s); retrying one by one", len(group),
                            type(exc).__name__)
                for one in group:
                    await self._write([one])
                return
            for _, _, future in group:
                _settle(future, _as_app_error(exc))
            return
        finally:
            await session.close()
        self.batches += 1
        for _, _, future in group:
            _settle(future, None)


def _settle(future: asyncio.Future[None], exc: BaseException | None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(None)


def _as_app_error(exc: Exception) -> Exception:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, (DBAPIError, OSError, ConnectionError, TimeoutError)):
        return unavailable_error("database", "the alert could not be stored; retry")
    return exc


def writer_for(app: Any) -> InboundWriter:
    """The app's writer on the running event loop (a fresh loop, as in tests, gets a fresh writer)."""
    loop = asyncio.get_running_loop()
    current = getattr(app.state, "inbound_writer", None)
    if current is None or current[0] is not loop:
        current = (loop, InboundWriter(app.state.db))
        app.state.inbound_writer = current
    return current[1]


async def close_writer(app: Any) -> None:
    current = getattr(app.state, "inbound_writer", None)
    if current is not None and current[0] is asyncio.get_running_loop():
        await current[1].close()
