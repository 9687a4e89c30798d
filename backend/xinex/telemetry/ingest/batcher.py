"""Group commit for OTLP inserts: concurrent export requests for one table share one insert.

Each request's rows wait in `submit` until an insert containing them has committed (durable
before acknowledged). One insert per table runs at a time; requests arriving meanwhile are
coalesced into the next one, so under load the store sees a few large inserts (fewer parts, less
per-insert work) instead of one per request, and at low load a request is inserted at once, alone.

A failed insert: when the store is unavailable, every waiter of it gets that error (retrying
alone would fail the same way). Any other failure may be caused by one request's rows, so an
insert of several requests is retried request by request: one bad request cannot fail the
others (other tenants' included), and each waiter gets its own outcome.

Retried batches: a request carries a dedup token (a hash of tenant, table and payload). A token
seen in a recent committed insert answers at once; one still pending/in flight joins that
insert. An insert of exactly one request also passes its token to ClickHouse
(insert_deduplication_token), which covers retries that reach another receiver process.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from xinex.timeseries.store import StoreUnavailableError

Insert = Callable[[str, pa.Table, Mapping[str, Any] | None], Awaitable[Any]]


@dataclass(slots=True)
class _Waiting:
    data: pa.Table
    token: str | None
    done: asyncio.Future


class InsertBatcher:
    def __init__(self, table: str, insert: Insert, max_rows: int = 100_000, remember: int = 4096):
        self.table = table
        self._insert = insert
        self._max_rows = max_rows
        self._remember = remember
        self._queue: list[_Waiting] = []
        self._writer: asyncio.Task | None = None
        self._by_token: dict[str, asyncio.Future] = {}
        self._committed: OrderedDict[str, None] = OrderedDict()
        self.inserts = 0  # statistics: inserts run, rows written
        self.rows = 0

    async def submit(self, data: pa.Table, token: str | None = None) -> None:
        """Return once `data` is in a committed insert; raise the insert's error otherwise."""
        if token is not None:
            if token in self._committed:
                return
            joined = self._by_token.get(token)
            if joined is not None:
                await asyncio.shield(joined)
                return
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.append(_Waiting(data, token, done))
        if token is not None:
            self._by_token[token] = done
        if self._writer is None:
            self._writer = loop.create_task(self._drain(), name=f"otlp-insert-{self.table}")
        # A waiter that goes away (client disconnect) must not cancel the others' insert.
        await asyncio.shield(done)

    def _take(self) -> list[_Waiting]:
        rows, n = 0, 0
        while n < len(self._queue) and (n == 0 or rows + self._queue[n].data.num_rows <= self._max_rows):
            rows += self._queue[n].data.num_rows
            n += 1
        batch, self._queue = self._queue[:n], self._queue[n:]
        return batch

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._take()
                try:
                    await self._insert_coalesced(batch)
                finally:
                    for w in batch:
                        if w.token is not None and self._by_token.get(w.token) is w.done:
                            del self._by_token[w.token]
        finally:
            self._writer = None
            for w in self._queue:  # only when cancelled (shutdown): nobody will insert these
                w.done.cancel()

    async def _insert_coalesced(self, batch: list[_Waiting]) -> None:
        try:
            await self._insert_batch(batch)
        except asyncio.CancelledError:
            for w in batch:
                w.done.cancel()
            raise
        except StoreUnavailableError as exc:
            self._fail(batch, exc)
        except Exception as exc:  # noqa: BLE001 - handed to the waiters, or isolated below
            if len(batch) == 1:
                self._fail(batch, exc)
                return
            for w in batch:  # which request caused it is unknown: each one alone
                await self._insert_coalesced([w])
        else:
            self._commit(batch)

    def _commit(self, batch: list[_Waiting]) -> None:
        for w in batch:
            if not w.done.done():
                w.done.set_result(None)
            if w.token is not None:
                self._committed[w.token] = None
        while len(self._committed) > self._remember:
            self._committed.popitem(last=False)

    @staticmethod
    def _fail(batch: list[_Waiting], exc: BaseException) -> None:
        for w in batch:
            if not w.done.done():
                w.done.set_exception(exc)

    async def _insert_batch(self, batch: list[_Waiting]) -> None:
        data = batch[0].data if len(batch) == 1 else pa.concat_tables([w.data for w in batch])
        tokens = [w.token for w in batch]
        settings = None
        if all(t is not None for t in tokens):
            token = tokens[0] if len(tokens) == 1 else hashlib.blake2b("".join(tokens).encode(), digest_size=16).hexdigest()
            settings = {"insert_deduplication_token": token}
        await self._insert(self.table, data, settings)
        self.inserts += 1
        self.rows += data.num_rows
