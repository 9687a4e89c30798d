"""Engine, sessions and the one-commit-per-request unit of work."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from xinex.kit import sqlite_gate
from xinex.kit.tenancy import bind_tenant, system_scope

AFTER_COMMIT_KEY = "xinex.after_commit"
CONNECT_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 30.0


class Database:
    def __init__(self, url: str, *, echo: bool = False, command_timeout: float = COMMAND_TIMEOUT_S) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No pre-ping: it costs a round trip per request; stale connections are recycled instead,
            # and one broken by an outage fails its request (503) once and is discarded.
            kwargs.update(pool_size=20, max_overflow=20, pool_recycle=1800)
            if url.startswith("postgresql+asyncpg"):
                # A database that does not answer (rather than refuses) costs a request at most this
                # long before its 503, not asyncpg's default 60 s.
                # A statement with no answer after command_timeout is abandoned (503): a partitioned
                # database would otherwise hold every request until TCP gives up, hours later.
                kwargs["connect_args"] = {"timeout": CONNECT_TIMEOUT_S, "command_timeout": command_timeout}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            # One writer at a time, served in arrival order (see kit/sqlite_gate.py).
            self.write_gate = sqlite_gate.install(self.engine.sync_engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, class_=AsyncSession)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(
        self, *, tenant_id: uuid.UUID | None = None, system: str | None = None
    ) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits on success, rolls back on error, runs after-commit hooks."""
        async with self.sessionmaker() as session:
            if tenant_id is not None:
                await bind_tenant(session, tenant_id)
            elif system:
                await system_scope(session, system)
            try:
                yield session
                await commit(session)
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk before it returns, so an acknowledged write survives power loss
    # too (NORMAL in WAL mode defers the fsync to the checkpoint). Group commits keep it cheap.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def after_commit(session: AsyncSession, hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` only once the current unit of work has committed (jobs, fan-out, mail)."""
    session.sync_session.info.setdefault(AFTER_COMMIT_KEY, []).append(hook)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    hooks = session.sync_session.info.pop(AFTER_COMMIT_KEY, [])
    for hook in hooks:
        await hook()


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, committed once after the endpoint returns."""
    db: Database = request.app.state.db
    session = db.sessionmaker()
    request.state.db_session = session
    session.sync_session.info["xinex.job_queue"] = getattr(request.app.state, "jobs", None)
    try:
        yield session
        if session.in_transaction() or session.sync_session.info.get(AFTER_COMMIT_KEY):
            await commit(session)
    except BaseException:
        await session.rollback()
        raise
    finally:
        await _close(session)


async def _close(session: AsyncSession) -> None:
    # Nothing begun (a request served from caches) or already committed: no connection is held, so
    # closing does no I/O and needs neither a greenlet nor the shielded task of `async with`.
    if session.in_transaction():
        await session.close()
    else:
        session.sync_session.close()


# scope="function": the commit happens before the response is sent (durable before acknowledged).
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
DatabaseDep = Annotated[Database, Depends(get_db)]
