"""Group commit: requests that arrive while one transaction commits share the next one.

The highest-rate writes (heartbeat pings, inbound alerts) would otherwise pay a transaction — its
round trips and its COMMIT, an fsync — each. Here every `submit` queues its item and waits; one task
per writer writes whatever is queued (up to `max_batch` items) in one system-scoped transaction
(`prepare` adds the statements and returns each item's outcome), and answers every caller only
after that transaction committed: durable before acknowledged.

The next batch is prepared while the previous one commits (at most one COMMIT in flight, so
commits stay in order; a statement of the next batch that needs a row the committing batch holds
waits for it). A batch whose statements fail is retried one item at a time, so a single bad item
(or a deadlock with another process) fails only its own caller; a failed COMMIT fails its whole
batch with the 503 `unavailable` answer (retryable). An outcome that is an exception is raised to
its own caller (a ping of an unknown heartbeat: NOT_FOUND) once the batch committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import Database, commit
from xinex.kit.errors import AppError, unavailable_error
from xinex.kit.tenancy import system_scope

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
MAX_BATCH = 500  # bounds one transaction's statements and lock set

# prepare(session, items) -> one outcome per item (an exception instance: raised to that caller).
Prepare = Callable[[AsyncSession, list[Item]], Awaitable[Sequence[Outcome | BaseException]]]


class GroupCommitWriter(Generic[Item, Outcome]):
    def __init__(self, db: Database, prepare: Prepare[Item, Outcome], *, scope: str, what: str,
                 max_batch: int = MAX_BATCH) -> None:
        """`scope`: the system scope of the batches (their items belong to many tenants); `what`: the
        thing stored, for the 503's message and the logs ("the ping", "the alert")."""
        self._db = db
        self._prepare = prepare
        self._scope = scope
        self._what = what
        self._max_batch = max_batch
        self._queue: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self.batches = 0  # committed transactions, for tests and the benchmarks

    async def submit(self, item: Item) -> Outcome:
        """Queue `item`; returns its outcome once the transaction holding it committed."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"group-commit {self._scope}")
        self._wake.set()
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._committing is not None:
            await asyncio.gather(self._committing, return_exceptions=True)
        for _, future in self._queue:
            if not future.done():
                future.set_exception(AppError("SERVICE_UNAVAILABLE", "the server is shutting down; retry"))
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                # A caller that gave up (client went away) no longer needs an answer, but what it
                # sent was received: it is still written.
                group, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch:]
                try:
                    await self._write(group)
                except Exception as exc:  # a bug here must fail its callers, not hang them
                    log.exception("group-commit writer %s failed", self._scope)
                    for _, future in group:
                        _settle(future, exc=exc)

    async def _write(self, group: list[tuple[Item, asyncio.Future[Outcome]]]) -> None:
        session = self._db.sessionmaker()
        try:
            await system_scope(session, self._scope)
            outcomes = await self._prepare(session, [item for item, _ in group])
        except Exception as exc:  # noqa: BLE001 - isolated below, each caller gets its own outcome
            await session.rollback()
            await session.close()
            await self._wait_for_commit()  # retries must not meet an uncommitted batch's locks
            if len(group) == 1:
                _settle(group[0][1], exc=self._as_app_error(exc))
                return
            log.warning("%s batch of %d failed (%s); retrying one by one", self._scope, len(group),
                        type(exc).__name__)
            for one in group:
                await self._write([one])
                await self._wait_for_commit()
            return
        await self._wait_for_commit()
        self._committing = asyncio.create_task(self._commit(session, group, outcomes))

    async def _wait_for_commit(self) -> None:
        if self._committing is not None:
            await self._committing
            self._committing = None

    async def _commit(self, session: AsyncSession, group: list[tuple[Item, asyncio.Future[Outcome]]],
                      outcomes: Sequence[Outcome | BaseException]) -> None:
        try:
            await commit(session)
        except Exception as exc:  # noqa: BLE001 - the batch is lost as a whole; each caller may retry
            for _, future in group:
                _settle(future, exc=self._as_app_error(exc))
            return
        finally:
            await session.close()
        self.batches += 1
        for (_, future), outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                _settle(future, exc=outcome)
            else:
                _settle(future, result=outcome)

    def _as_app_error(self, exc: Exception) -> Exception:
        if isinstance(exc, AppError):
            return exc
        if isinstance(exc, (DBAPIError, OSError, ConnectionError, TimeoutError)):
            # The REST answer and one rate-limited "database unavailable" line, not one per caller.
            return unavailable_error("database", f"{self._what} could not be stored; retry")
        return exc


def _settle(future: asyncio.Future[Any], *, result: Any = None, exc: BaseException | None = None) -> None:
    if future.done():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


def writer_on_loop(app: Any, attribute: str, make: Callable[[], Any]) -> Any:
    """The app's writer on the running event loop, kept in `app.state.<attribute>` (an app served by a
    fresh loop, as in tests, gets a fresh writer rather than one whose task belongs to a closed loop)."""
    loop = asyncio.get_running_loop()
    current = getattr(app.state, attribute, None)
    if current is None or current[0] is not loop:
        current = (loop, make())
        setattr(app.state, attribute, current)
    return current[1]


async def close_writer_on_loop(app: Any, attribute: str) -> None:
    current = getattr(app.state, attribute, None)
    if current is not None and current[0] is asyncio.get_running_loop():
        await current[1].close()
