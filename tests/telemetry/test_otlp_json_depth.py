"""OTLP/JSON nested deeper than the decoder goes is a 400 with a clear message (was a
RecursionError → 500); the receiver keeps accepting ordinary payloads afterwards."""

from __future__ import annotations

import grpc
import httpx
import pytest

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import json_span, json_trace

JSON = {"Content-Type": "application/json"}


def _deep_log_body(levels: int) -> bytes:
    """A log body of `levels` nested kvlists, written out as text (json.dumps would recurse)."""
    opening = '{"kvlistValue": {"values": [{"key": "k", "value": ' * levels
    closing = "}]}}" * levels
    body = opening + '{"stringValue": "bottom"}' + closing
    return ('{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": ' + body + "}]}]}]}").encode()


@pytest.mark.parametrize(("signal", "body", "message"), [
    ("traces", b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
    ("metrics", b'{"a":' * 200_000 + b"1" + b"}" * 200_000, "nested too deeply"),
    ("logs", _deep_log_body(2_000), "nested too deeply"),  # deeper than the JSON parser goes
    ("logs", _deep_log_body(60), "Message too deep"),  # valid JSON, deeper than OTLP messages may be
])
async def test_deeply_nested_json_is_a_400(otlp, alice, signal, body, message):
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/{signal}", content=body, headers={**JSON, "x-api-key": alice.token})
    assert r.status_code == 400, r.text
    st = r.json()
    assert st["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert st["message"].startswith("invalid") and message in st["message"]


async def test_ordinary_json_is_still_accepted_after_deep_payloads(otlp, client, alice):
    service = unique("after-deep")
    async with httpx.AsyncClient() as http:
        deep = await http.post(f"{otlp.http_endpoint}/v1/traces", content=b"[" * 200_000,
                               headers={**JSON, "x-api-key": alice.token})
        assert deep.status_code == 400
        r = await http.post(f"{otlp.http_endpoint}/v1/traces", json=json_trace(service, [json_span("fine")]),
                            headers={"x-api-key": alice.token})
    assert r.status_code == 200, r.text
    assert (await dsl(client, alice, f"SELECT name FROM spans WHERE service = '{service}'"))["rows"] == [["fine"]]
