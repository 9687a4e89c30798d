"""The transport-independent OTLP receiver: credential → tenant, bounded in-flight batches,
mapping to Arrow columns and an awaited insert (durable before acknowledged, DESIGN §4);
concurrent batches of one table share an insert (batcher.py).

The gRPC and HTTP servers translate `IngestError`s into their status codes.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from xinex.kit.db import Database
from xinex.telemetry.ingest.batcher import InsertBatcher
from xinex.telemetry.ingest.common import MappingReport
from xinex.telemetry.ingest.logs import log_table
from xinex.telemetry.ingest.metrics import metric_table
from xinex.telemetry.ingest.spans import span_table
from xinex.telemetry.ingest.time_window import keep_storable
from xinex.timeseries.store import StoreUnavailableError, TimeSeriesError, TimeSeriesStore

log = logging.getLogger("xinex.otlp")

# signal → (table, mapper: request → Arrow table of rows + rejections)
SIGNALS = {
    "traces": ("spans", span_table),
    "logs": ("logs", log_table),
    "metrics": ("metrics", metric_table),
}


# Telemetry tables are partitioned by day, and ClickHouse refuses an insert block touching more
# than 100 partitions (Code 252) by default. The retention window (time_window.py) keeps a batch
# within 92 days today; lifted anyway, so a longer retention can never turn a batch into an error
# the client would retry forever.
TELEMETRY_INSERT_SETTINGS = {"max_partitions_per_insert_block": 0}


class IngestError(Exception):
    """http: HTTP status; grpc: grpc.StatusCode name; retry_after: seconds, for retryable errors."""

    http = 500
    grpc = "INTERNAL"

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class Unauthenticated(IngestError):
    http, grpc = 401, "UNAUTHENTICATED"


class PermissionDenied(IngestError):
    http, grpc = 403, "PERMISSION_DENIED"


class BadRequest(IngestError):
    http, grpc = 400, "INVALID_ARGUMENT"


class TooLarge(IngestError):
    http, grpc = 413, "RESOURCE_EXHAUSTED"


class UnsupportedMedia(IngestError):
    http, grpc = 415, "INVALID_ARGUMENT"


class Overloaded(IngestError):
    http, grpc = 429, "RESOURCE_EXHAUSTED"


class RequestTimeout(IngestError):
    http, grpc = 408, "DEADLINE_EXCEEDED"


class Unavailable(IngestError):
    http, grpc = 503, "UNAVAILABLE"


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer …` value; None for another scheme. Such a header
    (Basic, added by a proxy in front of the receiver) must not hide the request's x-api-key."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@dataclass(frozen=True)
class ReceiverConfig:
    max_body_bytes: int = 8 * 1024 * 1024  # decompressed request size
    max_inflight: int = 64  # batches being decoded/inserted at once, across both transports
    retry_after_s: int = 5
    # OTLP/HTTP bodies are received before a batch takes an in-flight slot, so slow uploads cannot
    # hold the slots; these bound what they may hold instead: the time to receive one body, and
    # how many bodies are received at once (None: 4 × max_inflight), which bounds their memory.
    body_read_timeout_s: float = 30.0
    max_body_reads: int | None = None
    # Upper bound only: any committed credential change in this process (the credential cache's
    # generation moves) drops the entry at once, so revocation is immediate here too.
    token_cache_s: float = 5.0

    @property
    def body_read_limit(self) -> int:
        return self.max_body_reads if self.max_body_reads is not None else 4 * self.max_inflight


@dataclass(frozen=True)
class TenantIngest:
    tenant_id: uuid.UUID
    retention_days: int


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    rejected: int
    message: str


class Receiver:
    def __init__(self, db: Database, store: TimeSeriesStore, config: ReceiverConfig | None = None):
        self.db = db
        self.store = store
        self.config = config or ReceiverConfig()
        retry = self.config.retry_after_s
        self._batches = _Budget(self.config.max_inflight, "too many batches in flight; retry later", retry)
        self._bodies = _Budget(self.config.body_read_limit, "too many request bodies being received; retry later",
                               retry)
        self._tokens: dict[bytes, tuple[float, int, TenantIngest]] = {}
        self._migrated = False
        self.batchers = {table: InsertBatcher(table, self._insert) for table, _ in SIGNALS.values()}

    # ---- credentials ------------------------------------------------------------------------
    async def authenticate(self, credential: str | None) -> TenantIngest:
        """The tenant comes only from the API token, never from the payload (DESIGN §3)."""
        if not credential:
            raise Unauthenticated("an API token is required (authorization: Bearer xinex_… or x-api-key)")
        from xinex.identity.credential_cache import CACHE

        key = hashlib.sha256(credential.encode()).digest()
        now = time.monotonic()
        hit = self._tokens.get(key)
        if hit is not None and hit[0] > now and hit[1] == CACHE.generation:
            return hit[2]
        generation = CACHE.generation
        tenant = await self._resolve(credential)
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        self._tokens[key] = (now + self.config.token_cache_s, generation, tenant)
        return tenant

    async def _resolve(self, raw: str) -> TenantIngest:
        from xinex.identity.credentials import resolve_api_token
        from xinex.kit.errors import AppError
        from xinex.models.tenant import Role
        from xinex.tiers.catalog import limits_for
        from xinex.tiers.service import tenant_tier

        try:
            async with self.db.session(system="otlp.api_token") as session:
                try:
                    principal = await resolve_api_token(session, raw)
                except AppError as exc:
                    raise Unauthenticated(exc.message) from None
                if not principal.allows("telemetry", write=True) or not principal.has_role(Role.member):
                    raise PermissionDenied("this API token lacks the telemetry:write scope")
                tier = await tenant_tier(session, principal.tenant_id)
        except IngestError:
            raise
        except Exception as exc:  # noqa: BLE001 - the database is down: the client retries
            log.warning("otlp token lookup failed: %s", exc)
            raise Unavailable("credential store unavailable", self.config.retry_after_s) from exc
        return TenantIngest(principal.tenant_id, limits_for(tier).telemetry_retention_days)

    # ---- backpressure -----------------------------------------------------------------------
    def slot(self) -> AbstractAsyncContextManager[None]:
        """Refuse at once (429 / RESOURCE_EXHAUSTED + retry info) when max_inflight batches run."""
        return self._batches.take()

    @property
    def inflight(self) -> int:
        return self._batches.taken

    def body_read(self) -> AbstractAsyncContextManager[None]:
        """Room to receive one request body, taken before (and apart from) an in-flight slot:
        refused at once (429 + retry info) when max_body_reads bodies are being received."""
        return self._bodies.take()

    @property
    def receiving(self) -> int:
        return self._bodies.taken

    # ---- ingest -----------------------------------------------------------------------------
    async def ensure_schema(self) -> None:
        if not self._migrated:
            await self.store.migrate()
            self._migrated = True

    async def ingest(self, signal: str, tenant: TenantIngest, request: Any, dedup: bytes | None = None,
                     repaired_strings: int = 0) -> IngestResult:
        """Map one export request and return once its rows are in a committed insert.
        `repaired_strings`: strings the decoder found with invalid UTF-8 and stored with U+FFFD."""
        table, mapper = SIGNALS[signal]
        data, report = _map(signal, mapper, request, tenant)
        if repaired_strings:
            report.drop("strings with invalid UTF-8 stored with U+FFFD", repaired_strings)
        if data is not None:
            data = keep_storable(data, report, tenant.retention_days, time.time_ns())
        if data is None:
            return IngestResult(0, report.rejected, _message(report, signal))
        token = None
        if dedup is not None and not report.time_filled:
            # A client retrying the same batch (after a timeout) lands it once. Not when an item
            # took the receive time: the same bytes sent again are then new records, not a retry.
            token = hashlib.blake2b(tenant.tenant_id.bytes + table.encode() + dedup, digest_size=16).hexdigest()
        try:
            await self.batchers[table].submit(data, token)
        except StoreUnavailableError as exc:
            log.warning("otlp insert into %s failed, store unavailable: %s", table, exc)
            raise Unavailable("telemetry store unavailable; retry later", self.config.retry_after_s) from exc
        except TimeSeriesError as exc:
            # Not the client's fault and not lost silently: retryable, and logged for us.
            log.error("otlp insert into %s failed: %s", table, exc)
            raise Unavailable("telemetry store error; retry later", self.config.retry_after_s) from exc
        return IngestResult(data.num_rows, report.rejected, _message(report, signal))

    async def _insert(self, table: str, data: Any, settings: Any) -> None:
        await self.ensure_schema()
        await self.store.insert_arrow(table, data, settings={**TELEMETRY_INSERT_SETTINGS, **(settings or {})})


class _Budget:
    """At most `limit` holders at once; one more is refused at once with Overloaded (no queue:
    the client's retry with backoff is the queue, and waiting here would hold its connection)."""

    def __init__(self, limit: int, refusal: str, retry_after_s: int):
        self.limit, self.refusal, self.retry_after_s = limit, refusal, retry_after_s
        self.taken = 0

    @asynccontextmanager
    async def take(self) -> AsyncIterator[None]:
        if self.taken >= self.limit:
            raise Overloaded(self.refusal, self.retry_after_s)
        self.taken += 1
        try:
            yield
        finally:
            self.taken -= 1


def _map(signal: str, mapper: Any, request: Any, tenant: TenantIngest) -> tuple[Any, MappingReport]:
    """Run a mapper; a payload it cannot handle is the client's 400, not a 500. Only the
    exception's class and where it was raised are logged: its message may quote the payload."""
    try:
        with _no_gc():
            return mapper(request, tenant.tenant_id, tenant.retention_days)
    except Exception as exc:  # noqa: BLE001 - any mapper bug or unforeseen input: refuse the batch
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        log.error("otlp %s payload could not be mapped: %s at %s:%s", signal, type(exc).__name__,
                  frame.filename, frame.lineno)
        raise BadRequest("could not map the payload") from None


@contextmanager
def _no_gc() -> Iterator[None]:
    """Mapping allocates many small lists/dicts, none of them cyclic: the cyclic collector would
    rescan them again and again (half the mapping time). Pause it for the synchronous batch."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _message(report: MappingReport, signal: str) -> str:
    """The partial-success message: rejected items, then parts dropped from stored items (with
    nothing rejected this is the spec's warning form: rejected 0 and a message)."""
    parts = [f"{n} {what}" for what, n in report.dropped.items()]
    if report.rejected:
        items = {"traces": "spans", "logs": "log records", "metrics": "data points"}[signal]
        parts.insert(0, f"{report.rejected} {items} rejected: {report.message}")
    return "; ".join(parts)
