"""Payloads the mappers must survive: enum values OTLP does not define are stored as
'unspecified' (not a 500, not passed off as another temporality), and any exception raised while
mapping is the client's 400 / INVALID_ARGUMENT, logged by class without the payload."""

from __future__ import annotations

import logging
import time

import grpc
import httpx
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric, NumberDataPoint, Sum
from xinex.telemetry.ingest import receiver as receiver_module

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB


def sum_request(service: str, temporalities: dict[str, int]) -> metrics_service_pb2.ExportMetricsServiceRequest:
    """One monotonic sum per metric name, with the given raw aggregation_temporality."""
    req = metrics_service_pb2.ExportMetricsServiceRequest()
    rm = req.resource_metrics.add()
    rm.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    now = time.time_ns()
    rm.scope_metrics.add().metrics.extend(
        Metric(name=name, sum=Sum(aggregation_temporality=value, is_monotonic=True,
                                  data_points=[NumberDataPoint(time_unix_nano=now, as_int=1)]))
        for name, value in temporalities.items())
    return req


async def _temporalities(client, account, service: str) -> list[list]:
    out = await dsl(client, account, f"SELECT metric, temporality FROM metrics WHERE service = '{service}' "
                                     f"ORDER BY metric")
    return out["rows"]


async def test_unknown_temporality_over_json_is_stored_as_unspecified(otlp, client, alice):
    service = unique("temporality-json")
    now = str(time.time_ns())
    body = {"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeMetrics": [{"metrics": [
            {"name": "future", "sum": {"aggregationTemporality": 7, "dataPoints": [{"asInt": "1", "timeUnixNano": now}]}},
            {"name": "known", "sum": {"aggregationTemporality": 1, "dataPoints": [{"asInt": "1", "timeUnixNano": now}]}},
        ]}]}]}
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/metrics", json=body, headers={"x-api-key": alice.token})
    assert r.status_code == 200, r.text
    assert "partialSuccess" not in r.json()
    assert await _temporalities(client, alice, service) == [["future", "unspecified"], ["known", "delta"]]


async def test_out_of_range_temporality_over_grpc_is_stored_as_unspecified(otlp, client, alice):
    service = unique("temporality-grpc")
    req = sum_request(service, {"above": 3, "below": -1, "cumulative": 2})
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        resp = await metrics_service_pb2_grpc.MetricsServiceStub(channel).Export(
            req, metadata=(("x-api-key", alice.token),))
    assert not resp.HasField("partial_success")
    assert await _temporalities(client, alice, service) == [
        ["above", "unspecified"], ["below", "unspecified"], ["cumulative", "cumulative"]]


SECRET = "payload-secret-4711"


def _broken_mapper(request, tenant_id, retention_days):
    raise KeyError(SECRET)  # a mapper bug whose message quotes the payload


async def test_an_exception_while_mapping_is_a_400_logged_without_the_payload(otlp, alice, monkeypatch, caplog):
    monkeypatch.setitem(receiver_module.SIGNALS, "metrics", ("metrics", _broken_mapper))
    payload = sum_request(unique("broken"), {"m": 2})
    caplog.set_level(logging.ERROR, logger="xinex.otlp")
    async with httpx.AsyncClient() as http:
        r = await http.post(f"{otlp.http_endpoint}/v1/metrics", content=payload.SerializeToString(),
                            headers={**PB, "x-api-key": alice.token})
    assert r.status_code == 400
    st = status_pb2.Status.FromString(r.content)
    assert st.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] and st.message == "could not map the payload"
    async with grpc.aio.insecure_channel(otlp.grpc_endpoint) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await metrics_service_pb2_grpc.MetricsServiceStub(channel).Export(
                payload, metadata=(("x-api-key", alice.token),))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "could not map the payload"
    logged = [rec.getMessage() for rec in caplog.records if rec.name == "xinex.otlp"]
    assert len(logged) == 2 and all("KeyError" in line for line in logged)
    assert not any(SECRET in line for line in logged)
