"""Clients we did not write, against /ping on a real uvicorn server: the third-party `healthchecks-io`
PyPI client and the curl lines healthchecks' docs tell users to put in their crontabs."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid

import healthchecks_io
import httpx
import pytest

from tests.conftest import free_port
from tests.heartbeats.conftest import load

BASE = "/api/v1/heartbeats"


@contextlib.asynccontextmanager
async def serve(app):
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _pings(client, alice, hb) -> list[dict]:
    r = await client.get(f"{BASE}/{hb['id']}/pings", params={"per_page": 100}, headers=alice.bearer)
    return r.json()["items"][::-1]


async def test_the_healthchecks_io_client(app, client, make_hb, alice, db):
    hb = await make_hb(interval=3600, grace=60)
    pid = hb["ping_url"].rsplit("/", 1)[1]
    async with serve(app) as base, httpx.AsyncClient(timeout=10) as http:
        hc = healthchecks_io.AsyncClient(ping_url=f"{base}/ping/", client=http)
        assert await hc.start_ping(uuid=pid) == (True, "OK")
        assert await hc.success_ping(uuid=pid, data="backup done: 42 files") == (True, "OK")
        assert await hc.exit_code_ping(exit_code=3, uuid=pid, data="disk full") == (True, "OK")
        assert (await load(db, hb)).status == "down"
        assert await hc.exit_code_ping(exit_code=0, uuid=pid) == (True, "OK")
        assert await hc.fail_ping(uuid=pid) == (True, "OK")
        with pytest.raises(healthchecks_io.CheckNotFoundError):
            await hc.success_ping(uuid=str(uuid.uuid4()))
        with pytest.raises(healthchecks_io.BadAPIRequestError):
            await hc.exit_code_ping(exit_code=256, uuid=pid)
    kinds = [(p["kind"], p["exit_code"], p["body"]) for p in await _pings(client, alice, hb)]
    assert kinds == [("start", None, ""), ("success", None, "backup done: 42 files"), ("fail", 3, "disk full"),
                     ("success", 0, ""), ("fail", None, "")]
    row = await load(db, hb)
    assert row.status == "down" and row.last_start_at is None
    assert all(p["user_agent"].startswith("py-healthchecks.io-async/") for p in await _pings(client, alice, hb))


def _curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", *args], capture_output=True, timeout=60)


async def test_curl_forms_from_the_docs(app, client, make_hb, alice, db, tmp_path):
    hb = await make_hb(interval=3600, grace=60)
    pid = hb["ping_url"].rsplit("/", 1)[1]
    big = tmp_path / "big.log"
    # 6.3 MB: cut to the limit, the ping kept. (Past the 8 MiB the server reads beyond a cut it closes the
    # connection, and a client still uploading may see a reset before the answer: docs/compatibility.md.)
    big.write_bytes(b"log line\n" * 700_000)
    async with serve(app) as base:
        url = f"{base}/ping/{pid}"
        results = [await asyncio.to_thread(_curl, *args) for args in (
            ("-fsS", "-m", "10", "--retry", "5", "-o", "/dev/null", f"{url}/start"),
            ("-fsS", "-m", "10", "--retry", "5", "-o", "/dev/null", url),
            ("-fsS", "-m", "10", "--retry", "5", "-o", "/dev/null", f"{url}/"),  # trailing slash
            ("-fsS", "-m", "10", "--retry", "5", "--data-raw", "rsync: 12 files", f"{url}/log"),
            ("-fsS", "-m", "10", "--retry", "5", "-o", "/dev/null", "--data-binary", f"@{big}", f"{url}/1/"),
            ("-fsS", "-m", "10", "--retry", "5", "-X", "HEAD", "-I", f"{url}/0"),
        )]
        missing = await asyncio.to_thread(_curl, "-fsS", "-m", "10", "-o", "/dev/null", f"{base}/ping/{uuid.uuid4()}")
    assert [r.returncode for r in results] == [0] * 6, [r.stderr for r in results]
    assert results[3].stdout == b"OK"
    assert missing.returncode == 22 and b"404" in missing.stderr  # -f fails on 4xx: the user notices
    pings = await _pings(client, alice, hb)
    assert [(p["kind"], p["exit_code"], p["method"]) for p in pings] == [
        ("start", None, "GET"), ("success", None, "GET"), ("success", None, "GET"), ("log", None, "POST"),
        ("fail", 1, "POST"), ("success", 0, "HEAD")]
    assert pings[3]["body"] == "rsync: 12 files"
    assert (len(pings[4]["body"]), pings[4]["body_size"]) == (100_000, big.stat().st_size)
    row = await load(db, hb)
    assert (row.status, row.n_pings) == ("up", 6)
