"""Group commit for public pings (`/ping/{uuid}`), on kit's group-commit writer (kit/groupcommit.py):
every ping that arrives while one transaction is committing goes into the next one, so a burst of
N pings costs a handful of statements and one commit instead of N transactions. Each caller is
answered only after its batch has committed (durable before acknowledged); an unknown ping id is
answered NOT_FOUND, nothing else is lost.

One batch is written at a time per process, and the next is prepared while the previous one
commits: its locking statement waits on the committing batch's row locks where they share a
heartbeat, so pings of one heartbeat stay in order (measured with the worker settled: 1,030 →
1,170–1,500 pings/s at 128 connections). Two or four fully concurrent batches were measured and
dropped: smaller batches, more CPU per ping. Several API processes are serialised per heartbeat by
the row locks of `apply.locate`. A batch whose statements fail is retried one ping at a time, so a
single bad ping (or a deadlock with another process) fails only its own request; a failed COMMIT
answers its whole batch 503 (retryable).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.heartbeats import apply as batch
from xinex.heartbeats.service import PingInput, PingResult, throttled_error, validate
from xinex.heartbeats.throttle import throttle_for
from xinex.kit.db import Database
from xinex.kit.errors import AppError
from xinex.kit.groupcommit import MAX_BATCH, GroupCommitWriter, close_writer_on_loop, writer_on_loop

SCOPE = "heartbeats.public_ping"  # pings resolve their tenant from the ping id, across tenants
STATE_KEY = "ping_writer"


class PingWriter:
    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH, throttle: Any = None) -> None:
        self.throttle = throttle
        self._writer: GroupCommitWriter[batch.PendingPing, PingResult] = GroupCommitWriter(
            db, self._prepare, scope=SCOPE, what="the ping", max_batch=max_batch)

    @property
    def batches(self) -> int:
        """Committed transactions, for tests and the benchmark."""
        return self._writer.batches

    async def submit(self, ping_id: uuid.UUID, ping: PingInput) -> PingResult:
        validate(ping)
        return await self._writer.submit(batch.PendingPing(ping_id, ping))

    async def close(self) -> None:
        await self._writer.close()

    async def _prepare(self, session: AsyncSession, items: list[batch.PendingPing]
                       ) -> Sequence[PingResult | BaseException]:
        states = await batch.locate(session, items, by_ping_id=True)
        results = (await batch.apply(session, items, states, snapshots=False, throttle=self.throttle)
                   if states else [None] * len(items))
        return [AppError("NOT_FOUND", "heartbeat not found") if result is None
                else throttled_error(result.retry_after) if isinstance(result, batch.Throttled)
                else result for result in results]


def writer_for(app: Any) -> PingWriter:
    """The app's writer on the running event loop (kit.groupcommit.writer_on_loop)."""
    writer: PingWriter = writer_on_loop(app, STATE_KEY, lambda: PingWriter(app.state.db, throttle=throttle_for(app)))
    return writer


async def close_writer(app: Any) -> None:
    await close_writer_on_loop(app, STATE_KEY)
