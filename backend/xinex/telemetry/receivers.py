"""Running the OTLP receivers: standalone (`xinex otlp`, scale-out) or inside `xinex run`.

Both transports share one `Receiver`, hence one in-flight bound and one token cache.
Tunables (environment): XINEX_OTLP_HOST (default: XINEX_HTTP_HOST), XINEX_OTLP_MAX_BODY_BYTES
(8 MiB, decompressed), XINEX_OTLP_MAX_INFLIGHT (64 batches), XINEX_OTLP_RETRY_AFTER_S (5),
XINEX_OTLP_BODY_READ_TIMEOUT_S (30: an OTLP/HTTP body not received by then is answered 408),
XINEX_OTLP_MAX_BODY_READS (OTLP/HTTP bodies received at once; default 4 × max inflight);
ports are XINEX_OTLP_GRPC_PORT / XINEX_OTLP_HTTP_PORT.
"""

from __future__ import annotations

import asyncio
import logging

from pydantic_settings import BaseSettings, SettingsConfigDict

from xinex.kit.db import Database
from xinex.settings import Settings, get_settings
from xinex.telemetry.grpc_server import build_grpc_server
from xinex.telemetry.http_server import build_http_server
from xinex.telemetry.ingest.receiver import Receiver, ReceiverConfig
from xinex.timeseries.store import TimeSeriesStore, get_store

log = logging.getLogger("xinex.otlp")


class OtlpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XINEX_OTLP_", extra="ignore")

    host: str = ""
    max_body_bytes: int = 8 * 1024 * 1024
    max_inflight: int = 64
    retry_after_s: int = 5
    body_read_timeout_s: float = 30.0
    max_body_reads: int | None = None


class OtlpReceivers:
    """The gRPC and HTTP receivers over one Receiver. Port 0 picks a free port (tests)."""

    def __init__(self, db: Database, store: TimeSeriesStore, *, host: str = "127.0.0.1", grpc_port: int = 4317,
                 http_port: int = 4318, config: ReceiverConfig | None = None):
        self.receiver = Receiver(db, store, config)
        self.host = host
        self.grpc_port = grpc_port
        self.http_port = http_port
        self._grpc = None
        self._http = None
        self._http_task: asyncio.Task | None = None

    async def start(self) -> OtlpReceivers:
        try:
            await self.receiver.ensure_schema()
        except Exception as exc:  # noqa: BLE001 - the store may come up later; inserts retry the migration
            log.warning("telemetry store not ready at OTLP start: %s", exc)
        self._grpc, self.grpc_port = build_grpc_server(self.receiver, self.host, self.grpc_port)
        await self._grpc.start()
        self._http = build_http_server(self.receiver, self.host, self.http_port)
        self._http_task = asyncio.create_task(self._http.serve(), name="otlp-http")
        while not self._http.started:
            if self._http_task.done():
                await self._grpc.stop(None)
                self._http_task.result()  # raises the bind error
                raise OSError(f"OTLP/HTTP server on {self.host}:{self.http_port} exited")
            await asyncio.sleep(0.01)
        if self.http_port == 0:
            self.http_port = self._http.servers[0].sockets[0].getsockname()[1]
        log.info("OTLP receivers: gRPC on %s:%s, HTTP on %s:%s", self.host, self.grpc_port, self.host, self.http_port)
        return self

    async def stop(self, grace: float = 5.0) -> None:
        if self._http is not None:
            self._http.should_exit = True
        if self._grpc is not None:
            await self._grpc.stop(grace)
        if self._http_task is not None:
            await asyncio.gather(self._http_task, return_exceptions=True)

    @property
    def grpc_endpoint(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://{self.host}:{self.http_port}"


def from_settings(db: Database, settings: Settings | None = None, store: TimeSeriesStore | None = None,
                  host: str | None = None) -> OtlpReceivers:
    settings = settings or get_settings()
    otlp = OtlpSettings()
    config = ReceiverConfig(max_body_bytes=otlp.max_body_bytes, max_inflight=otlp.max_inflight,
                            retry_after_s=otlp.retry_after_s, body_read_timeout_s=otlp.body_read_timeout_s,
                            max_body_reads=otlp.max_body_reads)
    return OtlpReceivers(db, store or get_store(), host=host or otlp.host or settings.http_host,
                         grpc_port=settings.otlp_grpc_port, http_port=settings.otlp_http_port, config=config)


async def run_embedded(db: Database, stop: asyncio.Event) -> None:
    """Background task of `xinex run` (routes.BACKGROUND_TASKS): the receivers in the single
    process that owns the chdb folder. Tests start receivers on free ports themselves instead."""
    settings = get_settings()
    if settings.env == "test":
        return
    receivers = from_settings(db, settings)
    try:
        await receivers.start()
    except OSError as exc:
        log.error("OTLP receivers not started: %s", exc)
        return
    try:
        await stop.wait()
    finally:
        await receivers.stop()


async def serve(host: str | None = None) -> None:
    """`xinex otlp`: the receivers alone, until SIGINT/SIGTERM."""
    import signal

    from xinex.kit.logging import configure_logging

    configure_logging()
    settings = get_settings()
    db = Database(settings.effective_database_url)
    receivers = from_settings(db, settings, host=host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await receivers.start()
    try:
        await stop.wait()
    finally:
        await receivers.stop()
        await db.dispose()
