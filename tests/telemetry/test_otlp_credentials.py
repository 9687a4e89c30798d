"""The API token of an export: `Authorization: Bearer …`, else `x-api-key`. An Authorization of
another scheme (Basic, added by a proxy in front of the receiver) no longer hides a valid
x-api-key on either transport; without one it is still 401 / UNAUTHENTICATED."""

from __future__ import annotations

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, span, trace_request

PROXY_AUTH = "Basic cHJveHk6c2VjcmV0"  # proxy:secret


async def _count(client, account, service: str) -> int:
    return (await dsl(client, account, f"SELECT count() FROM spans WHERE service = '{service}'"))["rows"][0][0]


async def test_http_x_api_key_behind_a_basic_authorization(otlp, client, alice):
    service = unique("basic-http")
    payload = trace_request(service, [span("through-proxy")]).SerializeToString()
    url = f"{otlp.http_endpoint}/v1/traces"
    async with httpx.AsyncClient() as http:
        r = await http.post(url, content=payload, headers={**PB, "Authorization": PROXY_AUTH, "x-api-key": alice.token})
        assert r.status_code == 200, r.text
        r = await http.post(url, content=payload, headers={**PB, "Authorization": PROXY_AUTH})
        assert r.status_code == 401
        # A Bearer token still takes precedence over x-api-key.
        r = await http.post(url, content=payload, headers={**PB, "Authorization": "Bearer xinex_" + "0" * 64,
                                                           "x-api-key": alice.token})
        assert r.status_code == 401
    assert await _count(client, alice, service) == 1


async def test_grpc_x_api_key_behind_a_basic_authorization(otlp, client, alice):
    service = unique("basic-grpc")
    request = trace_request(service, [span("through-proxy")])
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        resp = await stub.Export(request, metadata=(("authorization", PROXY_AUTH), ("x-api-key", alice.token)))
        assert not resp.HasField("partial_success")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Export(request, metadata=(("authorization", PROXY_AUTH),))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Export(request, metadata=(("x-api-key", alice.token),
                                                 ("authorization", "Bearer xinex_" + "f" * 64)))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert await _count(client, alice, service) == 1
