"""OTLP/HTTP uploads that stall mid-body: they hold no in-flight slot (other clients are still
served), each is answered 408 once the body-read deadline passes, and the number of bodies
received at once is bounded (429 + Retry-After beyond it)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest
from xinex.telemetry.ingest.receiver import ReceiverConfig
from xinex.telemetry.receivers import OtlpReceivers

from .otlp_support import dsl, unique
from .test_otlp_protocol import PB, span, trace_request

READ_TIMEOUT_S = 1.0


@pytest.fixture
async def tight(db, ts_store):
    """One in-flight slot, two concurrent body reads, a 1 s body-read deadline."""
    receivers = OtlpReceivers(db, ts_store, host="127.0.0.1", grpc_port=0, http_port=0,
                              config=ReceiverConfig(max_inflight=1, max_body_reads=2, retry_after_s=3,
                                                    body_read_timeout_s=READ_TIMEOUT_S))
    await receivers.start()
    yield receivers
    await receivers.stop()


class StalledUpload:
    """A raw connection that announces a 1000-byte body, sends 10 bytes of it and stops."""

    def __init__(self, receivers: OtlpReceivers, token: str):
        self.receivers = receivers
        self.token = token

    async def __aenter__(self) -> StalledUpload:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.receivers.http_port)
        head = (f"POST /v1/traces HTTP/1.1\r\nHost: otlp\r\nContent-Type: application/x-protobuf\r\n"
                f"x-api-key: {self.token}\r\nContent-Length: 1000\r\n\r\n")
        self.writer.write(head.encode() + b"\n" * 10)
        await self.writer.drain()
        return self

    async def __aexit__(self, *exc) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def response(self) -> tuple[int, bytes]:
        """(status, raw response) the receiver sent, then closed the connection."""
        raw = await asyncio.wait_for(self.reader.read(), timeout=10)
        return int(raw.split(b" ", 2)[1]), raw


async def _until_receiving(receivers: OtlpReceivers, n: int) -> None:
    for _ in range(500):
        if receivers.receiver.receiving == n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {n} bodies being received, have {receivers.receiver.receiving}")


async def _post_trace(receivers: OtlpReceivers, token: str, service: str) -> httpx.Response:
    payload = trace_request(service, [span("through")]).SerializeToString()
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(f"{receivers.http_endpoint}/v1/traces", content=payload,
                                headers={**PB, "x-api-key": token})


async def test_stalled_uploads_hold_no_inflight_slot_and_time_out_with_408(tight, client, alice):
    service = unique("past-stalled")
    async with StalledUpload(tight, alice.token) as stalled:
        await _until_receiving(tight, 1)
        started = time.monotonic()
        r = await _post_trace(tight, alice.token, service)  # the only in-flight slot is free
        assert r.status_code == 200, r.text
        status, raw = await stalled.response()
        assert status == 408
        assert b"not received within 1 s" in raw
        assert READ_TIMEOUT_S * 0.9 <= time.monotonic() - started < READ_TIMEOUT_S + 5
    assert (tight.receiver.inflight, tight.receiver.receiving) == (0, 0)
    assert (await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[1]]


async def test_body_reads_are_bounded_with_429_and_retry_after(tight, client, alice):
    service = unique("read-budget")
    async with StalledUpload(tight, alice.token) as first, StalledUpload(tight, alice.token) as second:
        await _until_receiving(tight, 2)
        r = await _post_trace(tight, alice.token, service)
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
        assert [(await first.response())[0], (await second.response())[0]] == [408, 408]
    r = await _post_trace(tight, alice.token, service)  # the budget is given back after a timeout
    assert r.status_code == 200, r.text
    assert (await dsl(client, alice, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"] == [[1]]


def test_the_body_read_budget_defaults_to_four_per_inflight_slot():
    assert ReceiverConfig(max_inflight=3).body_read_limit == 12
    assert ReceiverConfig(max_inflight=3, max_body_reads=5).body_read_limit == 5
