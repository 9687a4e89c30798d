"""`xinex otlp`: the receivers alone, in their own process (scale-out), writing to a ClickHouse
server over HTTP and resolving API tokens in the shared database; read back through the API.

The ClickHouse server is ClickHouse's HTTP interface served from this process's chdb engine
(timeseries.testing), so the standalone process's rows land in the store the API reads.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.sdk._logs.export import LogRecordExportResult
from opentelemetry.sdk.trace.export import SpanExportResult

from .otlp_support import dsl, export, make_logs, make_spans, unique


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
async def standalone(settings, ts_store, chdb_http, tmp_path):
    grpc_port, http_port = _free_port(), _free_port()
    env = {**os.environ, "XINEX_DATABASE_URL": settings.database_url,
           "XINEX_CLICKHOUSE_URL": f"{chdb_http.url}/{ts_store.database}",
           "XINEX_DATA_DIR": str(tmp_path), "XINEX_OTLP_GRPC_PORT": str(grpc_port),
           "XINEX_OTLP_HTTP_PORT": str(http_port)}
    log = open(tmp_path / "otlp.log", "w+")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "xinex.cli", "otlp", "--host", "127.0.0.1"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not (_listening(grpc_port) and _listening(http_port)):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"xinex otlp did not start (exit {proc.poll()}):\n{log.read()[-3000:]}")
            await asyncio.sleep(0.1)
        yield proc, f"127.0.0.1:{grpc_port}", f"http://127.0.0.1:{http_port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


async def test_standalone_receiver_ingests_into_the_shared_store(standalone, client, alice, outsider):
    proc, grpc_endpoint, http_endpoint = standalone
    service = unique("scaleout")
    spans, trace_id = make_spans(service, children=1)
    exporter = GrpcSpanExporter(endpoint=grpc_endpoint, insecure=True,
                                headers={"authorization": f"Bearer {alice.token}"})
    assert await export(exporter, spans) == SpanExportResult.SUCCESS
    records, _ = make_logs(service, [(40, "card declined"), (20, "retrying")])
    log_exporter = HttpLogExporter(endpoint=f"{http_endpoint}/v1/logs", headers={"x-api-key": alice.token})
    assert await export(log_exporter, records) == LogRecordExportResult.SUCCESS

    # The API process reads what the standalone process wrote (acknowledged = stored).
    out = await dsl(client, alice, f"SELECT trace_id, name FROM spans WHERE service = '{service}' ORDER BY name")
    assert out["rows"] == [[trace_id, "GET /checkout"], [trace_id, "SELECT 0"]]
    out = await dsl(client, alice, f"SELECT severity, body FROM logs WHERE service = '{service}' ORDER BY body")
    assert out["rows"] == [["ERROR", "card declined"], ["INFO", "retrying"]]
    # The tenant comes from the token: the outsider sees none of it.
    out = await dsl(client, outsider, f"SELECT count() FROM spans WHERE service = '{service}'")
    assert out["rows"] == [[0]]

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(f"{http_endpoint}/v1/traces", content=b"",
                            headers={"content-type": "application/x-protobuf", "authorization": "Bearer xinex_nope"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"

    # SIGTERM stops it cleanly (both servers drained, database disposed).
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 20) == 0
