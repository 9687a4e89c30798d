"""A first-come-first-served write gate for the embedded SQLite database.

SQLite has one writer at a time, and a connection that finds the database locked polls for it
(the busy handler sleeps up to 100 ms between tries). With several background loops writing in
the one embedded process, a steady stream of short transactions can keep re-taking the lock
while a poller sleeps: measured, the heartbeat sweeper's one UPDATE waited up to 5 s while the
incident engine handled a burst. Here every write transaction of the process first takes an
asyncio lock, in arrival order, so the database lock is free when it gets there.

The gate is taken on a unit of work's first write (an ORM INSERT/UPDATE/DELETE or a flush with
changes) and released when its outermost transaction ends. A unit that opens a SQLite transaction
with reads and writes afterwards (a SAVEPOINT begins one, deferred) must take it first, with `hold`:
otherwise it reads a snapshot, waits here while another writer commits, and its first write finds
the snapshot stale — SQLite answers "database is locked" at once, without its busy wait. A wait longer than `TIMEOUT_S` (a
unit of work blocked on another that holds the gate, which SQLite would refuse anyway) goes
ahead ungated and leaves it to SQLite's own locking.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from sqlalchemy import event
from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_only

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
_HELD = "xinex.sqlite_write_gate.held"
_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # sync Engine -> WriteGate


class WriteGate:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.waits = 0  # acquisitions that had to queue, for tests

    async def acquire(self) -> bool:
        if self._lock.locked():
            self.waits += 1
        try:
            await asyncio.wait_for(self._lock.acquire(), TIMEOUT_S)
        except TimeoutError:
            log.warning("sqlite write gate: waited %.0f s, going ahead ungated", TIMEOUT_S)
            return False
        return True

    def release(self) -> None:
        if self._lock.locked():
            self._lock.release()


def install(sync_engine) -> WriteGate:
    gate = WriteGate()
    _gates[sync_engine] = gate
    return gate


def _gate_to_take(session: Session) -> WriteGate | None:
    """The gate of the session's SQLite engine, unless the session holds it already (else None)."""
    if session.info.get(_HELD):
        return None
    bind = session.bind
    return _gates.get(getattr(bind, "engine", bind)) if bind is not None else None


def _enter(session: Session) -> None:
    gate = _gate_to_take(session)
    if gate is None:
        return
    try:
        acquired = await_only(gate.acquire())
    except MissingGreenlet:  # a plain synchronous Session: nothing to wait on
        return
    if acquired:
        session.info[_HELD] = gate


async def hold(session: AsyncSession) -> None:
    """Take the write gate now, before the unit of work's next statement (BEGIN IMMEDIATE's role);
    released with the session's outermost transaction. No-op on other databases."""
    sync = session.sync_session
    gate = _gate_to_take(sync)
    if gate is None:
        return
    await session.connection()  # a session transaction exists, so its end releases the gate
    if await gate.acquire():
        sync.info[_HELD] = gate


@event.listens_for(Session, "do_orm_execute")
def _gate_dml(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        _enter(state.session)


@event.listens_for(Session, "before_flush")
def _gate_flush(session: Session, flush_context, instances) -> None:
    if session.new or session.dirty or session.deleted:
        _enter(session)


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction) -> None:
    if transaction.parent is None:
        gate = session.info.pop(_HELD, None)
        if gate is not None:
            gate.release()
