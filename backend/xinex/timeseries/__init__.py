"""ClickHouse time-series store (docs/operations.md): check results, heartbeat pings, telemetry."""

from xinex.timeseries.store import (
    ChdbStore,
    ClickHouseServerStore,
    QueryResult,
    StoreQueryError,
    StoreUnavailableError,
    TimeSeriesError,
    TimeSeriesStore,
    close_store,
    get_store,
)

__all__ = [
    "ChdbStore",
    "ClickHouseServerStore",
    "QueryResult",
    "StoreQueryError",
    "StoreUnavailableError",
    "TimeSeriesError",
    "TimeSeriesStore",
    "close_store",
    "get_store",
]
