"""Request-body caps (kit/http/bodylimit.py): 413 PAYLOAD_TOO_LARGE while the body streams in, never
after reading it whole; ping bodies are cut at XINEX_PING_BODY_LIMIT and the ping still recorded.

The denial-of-service case runs against a real `xinex api` process over TCP: concurrent 100 MB
uploads (chunked, and with a Content-Length far over the cap) are answered before the client has
sent them, and the process's resident memory stays flat.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import assert_error, free_port

LOGIN = "/api/v1/auth/login"
MIB = 1024 * 1024


async def _chunks(total: int, produced: list[int], size: int = 64 * 1024):
    """A body without Content-Length (chunked); `produced` counts what the server pulled."""
    sent = 0
    while sent < total:
        produced.append(size)
        sent += size
        yield b"x" * size


async def test_declared_oversize_body_is_refused_before_the_app_runs(client):
    r = await client.post(LOGIN, content=b"{" + b" " * (2 * MIB) + b"}", headers={"content-type": "application/json"})
    body = assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    assert body["details"] == {"limit": MIB}
    assert r.headers["x-request-id"] and r.headers["x-ratelimit-limit"]


async def test_chunked_body_is_refused_once_it_passes_the_cap(client):
    produced: list[int] = []
    r = await client.post(LOGIN, content=_chunks(500 * MIB, produced), headers={"content-type": "application/json"})
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    # Refused past the cap, within the bounded linger (8 MiB), far from the 500 MiB offered.
    assert MIB < sum(produced) <= 10 * MIB


async def test_bodies_within_the_cap_reach_the_endpoint(client):
    r = await client.post(LOGIN, json={"email": "nobody@example.com", "password": "p" * (900 * 1024)})
    assert_error(r, 422, "VALIDATION_FAILED")  # the endpoint's own rule (1,024 characters), not the cap
    r = await client.post(LOGIN, json={"email": "nobody@example.com", "password": "wrong"})
    assert r.status_code == 401


async def test_oversize_body_with_idempotency_key_leaves_the_key_free(client, alice, outsider):
    headers = {**alice.bearer, "Idempotency-Key": "big-body-1"}
    produced: list[int] = []
    r = await client.post("/api/v1/heartbeats", content=_chunks(50 * MIB, produced),
                          headers={**headers, "content-type": "application/json"})
    assert_error(r, 413, "PAYLOAD_TOO_LARGE")
    # Refused before the idempotency layer read (and hashed) the body: the key is not held.
    r = await client.post("/api/v1/heartbeats", json={"name": "after 413"}, headers=headers)
    assert r.status_code == 201, r.text
    hb = r.json()
    assert_error(await client.get(f"/api/v1/heartbeats/{hb['id']}", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_ping_body_over_its_cap_is_cut_and_the_ping_recorded(client, alice, outsider, settings):
    r = await client.post("/api/v1/heartbeats", json={"name": "big log"}, headers=alice.bearer)
    hb = r.json()
    ping_id = hb["ping_url"].rsplit("/", 1)[1]
    produced: list[int] = []
    r = await client.post(f"/ping/{ping_id}/fail", content=_chunks(200 * MIB, produced))
    assert r.status_code == 200 and r.text == "OK"
    assert sum(produced) <= settings.ping_body_limit + 10 * MIB  # the cap plus the bounded linger
    pings = (await client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=alice.bearer)).json()["items"]
    assert [p["kind"] for p in pings] == ["fail"]
    # Past the drain bound the size is what was read: a lower bound, more than the kept part.
    assert settings.ping_body_limit < pings[0]["body_size"] <= sum(produced)
    assert (await client.get(f"/api/v1/heartbeats/{hb['id']}", headers=alice.bearer)).json()["status"] == "down"
    assert_error(await client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=outsider.bearer), 404, "NOT_FOUND")


async def test_chunked_ping_body_over_its_cap_keeps_its_full_size(client, alice, outsider, settings):
    """A chunked body declares no length: the rest is read (and dropped) before the ping is recorded, so
    body_size is the full size, as with a Content-Length (docs/compatibility.md)."""
    hb = (await client.post("/api/v1/heartbeats", json={"name": "chunked log"}, headers=alice.bearer)).json()
    ping_id = hb["ping_url"].rsplit("/", 1)[1]
    produced: list[int] = []
    r = await client.post(f"/ping/{ping_id}/log", content=_chunks(3 * MIB, produced))
    assert (r.status_code, r.text) == (200, "OK")
    r = await client.post(f"/ping/{ping_id}/log", content=b"y" * (3 * MIB))  # the same with a Content-Length
    pings = (await client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=alice.bearer)).json()["items"]
    assert [(len(p["body"]), p["body_size"]) for p in pings] == [(settings.ping_body_limit, 3 * MIB)] * 2
    assert_error(await client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=outsider.bearer), 404, "NOT_FOUND")


# --- a real `xinex api` process -------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.fixture
async def api_process(settings, db, tmp_path):
    port = free_port()
    env = {**os.environ, "XINEX_DATABASE_URL": settings.database_url, "XINEX_DATA_DIR": str(tmp_path),
           "XINEX_OTLP_GRPC_PORT": str(free_port()), "XINEX_OTLP_HTTP_PORT": str(free_port())}
    log = open(tmp_path / "api.log", "w+")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "xinex.cli", "api", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"xinex api did not start (exit {proc.poll()}):\n{log.read()[-3000:]}")
            await asyncio.sleep(0.2)
        yield proc, port
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


def _upload(port: int, path: str, total: int, *, chunked: bool, keep_sending: bool = False) -> tuple[int, bytes]:
    """Send up to `total` body bytes while reading; stop at the first answer (or, keep_sending,
    when the server closes the connection). Returns (bytes sent, answer)."""
    sock = socket.create_connection(("127.0.0.1", port))
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % total
    sock.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n%s\r\n\r\n" % (path.encode(), framing))
    answer = bytearray()
    answered = threading.Event()

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
                if b"\r\n\r\n" in answer:
                    answered.set()
        except OSError:
            pass
        answered.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not chunked:  # a length over the cap is refused on the headers alone: send nothing until then
        answered.wait(30)
    piece = b"x" * (256 * 1024)
    sent = 0
    try:
        while sent < total and (keep_sending or not answered.is_set()):
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
    except OSError:
        pass  # the server answered and closed: what it said is in `answer`
    reader.join(30)
    sock.close()
    return sent, bytes(answer)


async def test_real_process_refuses_concurrent_huge_uploads_without_reading_them(api_process, client, alice):
    proc, port = api_process
    hb = (await client.post("/api/v1/heartbeats", json={"name": "huge ping"}, headers=alice.bearer)).json()
    ping_path = "/ping/" + hb["ping_url"].rsplit("/", 1)[1]
    before = _rss_kib(proc.pid)
    total = 100 * MIB
    uploads = [(LOGIN, True)] * 4 + [(LOGIN, False)] * 4 + [(ping_path, True)] * 2
    results = await asyncio.gather(*(asyncio.to_thread(_upload, port, path, total, chunked=chunked)
                                     for path, chunked in uploads))
    grown_mib = (_rss_kib(proc.pid) - before) / 1024
    for (path, chunked), (sent, answer) in zip(uploads, results, strict=True):
        expected = b"HTTP/1.1 200" if path == ping_path else b"HTTP/1.1 413"
        assert answer.startswith(expected), (path, chunked, answer[:200])
        assert sent < total // 4, (path, chunked, sent)  # answered long before the body was sent
        if not chunked:
            assert sent == 0  # a declared length over the cap: refused before any of the body
    assert b'"code": "PAYLOAD_TOO_LARGE"' in results[0][1]
    assert grown_mib < 50, f"the API process grew by {grown_mib:.0f} MiB"
    # An endpoint that never reads its body answers at once, and the server stops reading soon after.
    sent, answer = await asyncio.to_thread(_upload, port, f"/api/v1/heartbeats/{hb['id']}/pause", total,
                                           chunked=True, keep_sending=True)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]  # no credential: refused without the body
    assert b"connection: close" in answer.lower()
    assert sent < total // 4, sent
    pings = (await client.get(f"/api/v1/heartbeats/{hb['id']}/pings", headers=alice.bearer)).json()["items"]
    # Each body was read up to the drain bound past the cut: body_size counts that (a lower bound of 100 MB).
    assert len(pings) == 2 and all(100_000 < p["body_size"] < total for p in pings)
