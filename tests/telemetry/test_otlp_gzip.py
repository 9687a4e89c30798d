"""gzip bodies over OTLP/HTTP: every member of a concatenated stream is decoded (RFC 1952), within
the size cap; a truncated stream or trailing garbage is a 400 and stores nothing (it was a 200
that silently dropped the rest of the batch)."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from .otlp_support import dsl, otlp_fixture, unique  # noqa: F401
from .test_otlp_protocol import PB, small_fixture, span, trace_request  # noqa: F401 - receivers, 64 KiB cap


def _payload(service: str, *names: str) -> bytes:
    return trace_request(service, [span(name) for name in names]).SerializeToString()


def _cut_after_first(service: str) -> bytes:
    """A gzip stream flushed after the first batch and cut there: the first batch decodes, the
    rest of the stream (another batch and the gzip trailer) is missing."""
    compressor = zlib.compressobj(wbits=31)
    return compressor.compress(_payload(service, "first")) + compressor.flush(zlib.Z_FULL_FLUSH)


async def _post(endpoint: str, token: str, body: bytes, encoding: str = "gzip") -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(f"{endpoint}/v1/traces", content=body,
                               headers={**PB, "Content-Encoding": encoding, "x-api-key": token})


async def _names(client, account, service: str) -> list[list]:
    return (await dsl(client, account, f"SELECT name FROM spans WHERE service = '{service}' ORDER BY name"))["rows"]


async def test_every_gzip_member_is_decoded(otlp, client, alice):
    service = unique("members")
    body = gzip.compress(_payload(service, "a1", "a2")) + gzip.compress(_payload(service, "b1"))
    r = await _post(otlp.http_endpoint, alice.token, body)
    assert r.status_code == 200, r.text
    assert await _names(client, alice, service) == [["a1"], ["a2"], ["b1"]]


@pytest.mark.parametrize(("case", "encoding", "message"), [
    ("truncated gzip", "gzip", "truncated"),
    ("gzip + garbage", "gzip", "unexpected data after"),
    ("truncated deflate", "deflate", "truncated"),
    ("deflate + garbage", "deflate", "unexpected data after"),
])
async def test_an_incomplete_or_padded_stream_is_a_400_and_stores_nothing(otlp, client, alice, case, encoding, message):
    service = unique("bad-stream")
    whole = _payload(service, "first")
    bodies = {
        "truncated gzip": _cut_after_first(service),
        "gzip + garbage": gzip.compress(whole) + b"garbage",
        "truncated deflate": zlib.compress(whole)[:-4],  # without its Adler-32 trailer
        "deflate + garbage": zlib.compress(whole) + b"garbage",
    }
    r = await _post(otlp.http_endpoint, alice.token, bodies[case], encoding)
    assert r.status_code == 400, r.text
    assert message in r.content.decode("latin-1")
    assert await _names(client, alice, service) == []


async def test_the_size_cap_counts_all_members(small, client, alice):
    service = unique("members-cap")
    member = gzip.compress(_payload(service, *(f"{i:04d}" + "x" * 1000 for i in range(40))))  # ~41 KiB inflated
    r = await _post(small.http_endpoint, alice.token, member)
    assert r.status_code == 200, r.text
    r = await _post(small.http_endpoint, alice.token, member + member)  # ~82 KiB inflated: over 64 KiB
    assert r.status_code == 413
    assert len(await _names(client, alice, service)) == 40  # the first request only
