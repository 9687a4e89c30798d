"""The ClickHouse time-series store (docs/operations.md): one interface, two engines.

- ClickHouseServerStore: a ClickHouse server or cluster over HTTP (clickhouse-connect).
- ChdbStore: the in-process chdb engine under data_dir/chdb (embedded default).

Both drive clickhouse-connect's client API (its chdb backend speaks to the embedded engine), so
binding, type conversion and inserts behave the same on both. Values are always bound as
ClickHouse server-side parameters ({name:Type}); query() refuses parameters that the SQL does
not reference as placeholders, because clickhouse-connect would otherwise format them into the
SQL text client-side.
"""

from __future__ import annotations

import abc
import asyncio
import contextvars
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlparse, urlunparse

from clickhouse_connect.driver.binding import quote_identifier
from clickhouse_connect.driver.exceptions import DatabaseError, Error, OperationalError

from xinex.timeseries.migrations import SCHEMA_MIGRATIONS_DDL, MigrationError, load_migrations

log = logging.getLogger(__name__)
T = TypeVar("T")

# Store calls block a thread for as long as ClickHouse takes. They get their own pool, not the
# event loop's default one (min(32, cores + 4) threads, which the rest of the app needs too):
# a few slow queries there used to leave no thread for anyone else's query or work.
# telemetry/query_gate.py caps each tenant at a few of these at once.
STORE_THREADS = 32
_store_calls = ThreadPoolExecutor(max_workers=STORE_THREADS, thread_name_prefix="timeseries")

_IDENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PARAM_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SELECT_RE = re.compile(r"^[\s(]*(SELECT|WITH)\b", re.IGNORECASE)
# clickhouse-connect read formats: DateTime64 (any scale, wrapped or not) as its integer ticks.
_RAW_DATETIME64 = {"DateTime64": "int"}
# ClickHouse error codes meaning "the query hit a cost limit", not "the query is wrong".
LIMIT_ERROR_CODES = frozenset({158, 159, 160, 241, 307, 396})


class TimeSeriesError(Exception):
    """Base class of store errors."""


class StoreUnavailableError(TimeSeriesError):
    """The store cannot be reached: callers answer with a retryable error (503 / UNAVAILABLE)."""


class StoreQueryError(TimeSeriesError):
    """ClickHouse refused or failed the statement."""

    def __init__(self, message: str, code: int | None = None, name: str | None = None):
        super().__init__(message)
        self.code = code
        self.name = name

    @property
    def limit_exceeded(self) -> bool:
        return self.code in LIMIT_ERROR_CODES


class QueryResult(NamedTuple):
    columns: list[tuple[str, str]]  # (name, ClickHouse type)
    rows: list[tuple]


def check_identifier(name: str, what: str = "identifier") -> str:
    """Table and column names are interpolated, so only plain identifiers (optionally db.table)."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENT_RE.match(p) for p in parts):
        raise ValueError(f"invalid {what}: {name!r}")
    return name


def check_bound(sql: str, params: Mapping[str, Any] | None) -> None:
    """Every parameter must be a {name:Type} placeholder in the SQL (server-side binding)."""
    for key in params or {}:
        if not _PARAM_NAME_RE.match(key):
            raise ValueError(f"invalid parameter name {key!r}")
        if not re.search(r"\{" + re.escape(key) + r":[^}]+\}", sql):
            raise ValueError(f"parameter {key!r} has no {{{key}:Type}} placeholder in the SQL")


def _wrap(ex: Exception) -> TimeSeriesError:
    if isinstance(ex, TimeSeriesError):
        return ex
    if isinstance(ex, OperationalError):
        return StoreUnavailableError(str(ex))
    if isinstance(ex, DatabaseError):
        return StoreQueryError(str(ex), getattr(ex, "code", None), getattr(ex, "name", None))
    if isinstance(ex, (Error, OSError)):
        return StoreUnavailableError(str(ex))
    return StoreQueryError(str(ex))


class TimeSeriesStore(abc.ABC):
    """Async interface of the time-series store. Implementations are safe to share."""

    database: str

    @abc.abstractmethod
    async def insert(
        self,
        table: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        settings: Mapping[str, Any] | None = None,
    ) -> int:
        """Insert row-oriented data; returns rows written. Pass settings such as
        insert_deduplication_token to make a retried batch land once."""

    @abc.abstractmethod
    async def insert_arrow(self, table: str, data: Any, settings: Mapping[str, Any] | None = None) -> int:
        """Insert a pyarrow.Table (column names = table columns); returns rows written. The data
        travels as Arrow IPC and is parsed by ClickHouse, not encoded row by row in Python."""

    @abc.abstractmethod
    async def query(
        self, sql: str, params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
        *, raw_datetime64: bool = False,
    ) -> QueryResult:
        """Run a SELECT; returns (columns_with_types, rows). raw_datetime64: DateTime64 values (also
        in arrays, maps, Nullable) come back as integer ticks of their scale (nanoseconds for
        DateTime64(9)) instead of datetimes, which hold only microseconds."""

    @abc.abstractmethod
    async def command(
        self, sql: str, params: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None
    ) -> None:
        """Run a statement without a result set (DDL, ALTER ... DELETE)."""

    @abc.abstractmethod
    async def ping(self) -> bool: ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def migrate(self) -> list[int]:
        """Apply pending DDL versions in order; returns the versions applied now."""
        async with self._migrate_lock:
            await self.command(SCHEMA_MIGRATIONS_DDL)
            done = await self.query("SELECT version, argMax(checksum, applied_at) FROM schema_migrations GROUP BY version")
            applied = dict(done.rows)
            new: list[int] = []
            for mig in load_migrations():
                if mig.version in applied:
                    if applied[mig.version] != mig.checksum:
                        raise MigrationError(
                            f"DDL {mig.version:04d}_{mig.name} changed after it was applied; add a new version instead"
                        )
                    continue
                for statement in mig.statements:
                    await self.command(statement)
                await self.insert(
                    "schema_migrations", ["version", "name", "checksum"], [[mig.version, mig.name, mig.checksum]]
                )
                new.append(mig.version)
            self._forget_types()
            if new:
                log.info("clickhouse migrations applied on %s: %s", self.database, new)
            return new

    @property
    def _migrate_lock(self) -> asyncio.Lock:
        lock = self.__dict__.get("_mlock")
        if lock is None:
            lock = self.__dict__["_mlock"] = asyncio.Lock()
        return lock

    def _forget_types(self) -> None:  # noqa: B027 - optional hook: engines that cache column types
        return None


class _ClientStore(TimeSeriesStore):
    """Shared implementation over clickhouse-connect sync clients, run in worker threads.

    Reads and writes use separate clients: a chdb handle is a session, and a failed statement
    can leave settings (readonly=1 from a cost-limited query) applied to it.
    """

    _serialize = False  # chdb handles: one call at a time per handle

    def __init__(self, database: str):
        self.database = check_identifier(database, "database name")
        self._reader: Any = None
        self._writer: Any = None
        self._open_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._types: dict[str, dict[str, str]] = {}

    @abc.abstractmethod
    def _make_client(self, database: str | None) -> Any: ...

    def _open(self) -> None:
        with self._open_lock:
            if self._reader is not None:
                return
            admin = self._make_client(None)
            try:
                exists = admin.query(
                    "SELECT count() FROM system.databases WHERE name = {db:String}", parameters={"db": self.database}
                ).result_rows[0][0]
                if not exists:
                    admin.command(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.database)}")
            finally:
                admin.close()
            self._writer = self._make_client(self.database)
            self._reader = self._make_client(self.database)

    async def _run(self, fn: Callable[[Any], T], write: bool) -> T:
        def call() -> T:
            try:
                self._open()
                client = self._writer if write else self._reader
                if not self._serialize:
                    return fn(client)
                with self._write_lock if write else self._read_lock:
                    return fn(client)
            except Exception as ex:  # noqa: BLE001 - mapped onto the store's error types
                raise _wrap(ex) from ex

        return await asyncio.get_running_loop().run_in_executor(_store_calls, contextvars.copy_context().run, call)

    def _forget_types(self) -> None:
        self._types.clear()

    def _column_types(self, client: Any, table: str) -> dict[str, str]:
        types = self._types.get(table)
        if types is None:
            # DESCRIBE once per table instead of once per insert (what clickhouse-connect does).
            result = client.query(f"DESCRIBE TABLE {table}")
            types = {row[0]: row[1] for row in result.result_rows}
            self._types[table] = types
        return types

    async def insert(self, table, columns, rows, settings=None) -> int:
        check_identifier(table, "table name")
        columns = [check_identifier(c, "column name") for c in columns]
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return 0

        def do(client: Any) -> int:
            types = self._column_types(client, table)
            missing = [c for c in columns if c not in types]
            if missing:
                raise StoreQueryError(f"unknown columns for {table}: {missing}")
            client.insert(
                table,
                rows,
                column_names=columns,
                column_type_names=[types[c] for c in columns],
                settings=dict(settings) if settings else None,
            )
            return len(rows)

        return await self._run(do, write=True)

    async def insert_arrow(self, table, data, settings=None) -> int:
        check_identifier(table, "table name")
        columns = [check_identifier(c, "column name") for c in data.column_names]
        if not data.num_rows:
            return 0

        def do(client: Any) -> int:
            types = self._column_types(client, table)
            missing = [c for c in columns if c not in types]
            if missing:
                raise StoreQueryError(f"unknown columns for {table}: {missing}")
            client.insert_arrow(table, data, settings=dict(settings) if settings else None)
            return data.num_rows

        return await self._run(do, write=True)

    async def query(self, sql, params=None, settings=None, *, raw_datetime64=False) -> QueryResult:
        check_bound(sql, params)
        formats = _RAW_DATETIME64 if raw_datetime64 else None
        # On a chdb handle (a session), a non-SELECT carrying settings leaves them applied to the
        # session, and readonly=1 can never be unset: such a handle is replaced afterwards.
        sticky = bool(settings) and self._serialize and not _SELECT_RE.match(sql)

        def do(client: Any) -> QueryResult:
            try:
                r = client.query(sql, parameters=dict(params) if params else None,
                                 settings=dict(settings) if settings else None, query_formats=formats)
            finally:
                if sticky:
                    client.close()
                    self._reader = self._make_client(self.database)
            columns = [(n, t.name) for n, t in zip(r.column_names, r.column_types, strict=True)]
            if not columns and _SELECT_RE.match(sql):
                # chdb sends no Native block at all for an empty result: ask for the columns.
                d = client.query(f"DESCRIBE ({sql})", parameters=dict(params) if params else None)
                columns = [(row[0], row[1]) for row in d.result_rows]
            return QueryResult(columns, list(r.result_rows))

        return await self._run(do, write=False)

    async def command(self, sql, params=None, settings=None) -> None:
        check_bound(sql, params)

        def do(client: Any) -> None:
            client.command(sql, parameters=dict(params) if params else None, settings=dict(settings) if settings else None)

        await self._run(do, write=True)

    async def ping(self) -> bool:
        try:
            return bool(await self._run(lambda c: c.ping(), write=False))
        except TimeSeriesError:
            return False

    async def close(self) -> None:
        def do() -> None:
            with self._open_lock:
                for client in (self._reader, self._writer):
                    if client is not None:
                        client.close()
                self._reader = self._writer = None

        await asyncio.to_thread(do)


class ClickHouseServerStore(_ClientStore):
    """A ClickHouse server/cluster over HTTP. URL: http(s)://user:password@host:8123/database."""

    def __init__(self, url: str, database: str | None = None, **client_kwargs: Any):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https", "clickhouse", "clickhouses"):
            raise ValueError(f"unsupported ClickHouse URL scheme {parsed.scheme!r}")
        path_db = parsed.path.strip("/").split("/")[0]
        super().__init__(database or path_db or "default")
        self._interface = "https" if parsed.scheme in ("https", "clickhouses") else "http"
        # The database is passed explicitly, so strip it from the DSN.
        self._dsn = urlunparse(parsed._replace(scheme=self._interface, path=""))
        self._client_kwargs = client_kwargs

    def _make_client(self, database: str | None) -> Any:
        import clickhouse_connect

        return clickhouse_connect.get_client(
            dsn=self._dsn,
            interface=self._interface,
            database=database or "default",
            # No HTTP session: the client is then safe to share between threads.
            autogenerate_session_id=False,
            tz_mode="aware",
            **self._client_kwargs,
        )


# chdb hosts one engine per process, at one path: remember it so a second path fails clearly.
_chdb_path: str | None = None
_chdb_path_lock = threading.Lock()


class ChdbStore(_ClientStore):
    """The embedded chdb engine. Several ChdbStore objects may exist (e.g. one per database),
    all on the process's single engine path; each owns its own chdb connection handles."""

    _serialize = True

    def __init__(self, path: str | os.PathLike[str], database: str = "xinex"):
        super().__init__(database)
        self.path = os.path.realpath(Path(path))

    def _make_client(self, database: str | None) -> Any:
        global _chdb_path
        from clickhouse_connect.driver._chdbclient import ChdbClient

        with _chdb_path_lock:
            if _chdb_path is not None and _chdb_path != self.path:
                raise TimeSeriesError(f"chdb already runs on {_chdb_path} in this process; cannot open {self.path}")
            os.makedirs(self.path, exist_ok=True)
            client = ChdbClient(path=self.path, database=database, tz_mode="aware")
            _chdb_path = self.path
        return client


_store: TimeSeriesStore | None = None
_store_lock = threading.Lock()


def get_store() -> TimeSeriesStore:
    """The process-wide store: a ClickHouse server when XINEX_CLICKHOUSE_URL is set, else chdb."""
    global _store
    with _store_lock:
        if _store is None:
            from xinex.settings import get_settings

            settings = get_settings()
            if settings.clickhouse_url:
                _store = ClickHouseServerStore(settings.clickhouse_url)
            else:
                _store = ChdbStore(Path(settings.data_dir) / "chdb")
        return _store


async def close_store() -> None:
    """Close the process-wide store (app shutdown). The chdb engine itself stays up."""
    global _store
    with _store_lock:
        store, _store = _store, None
    if store is not None:
        await store.close()
