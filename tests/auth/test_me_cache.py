"""GET /me is served from the credential cache, yet shows every committed change on the next request,
in this process and (over Redis) in another one; revocation reaches the other process at once too."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis.asyncio as aioredis

from tests.conftest import assert_error
from tests.kit.conftest import client_for, redis_url_for_tests

ROOT = Path(__file__).resolve().parents[2]
ME = "/api/v1/me"


async def test_me_shows_each_committed_change_on_the_next_request(client, alice):
    first = await client.get(ME, headers=alice.bearer)
    assert first.status_code == 200 and first.json()["name"] == "Test"
    again = await client.get(ME, headers=alice.bearer)
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert (await client.get(ME, headers={**alice.bearer, "If-None-Match": first.headers["etag"]})).status_code == 304

    # The user row.
    assert (await client.put(ME, json={"name": "Renamed"}, headers=alice.bearer)).status_code == 200
    renamed = await client.get(ME, headers={**alice.bearer, "If-None-Match": first.headers["etag"]})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert renamed.headers["etag"] != first.headers["etag"]

    # A new membership (a second tenant of her own).
    r = await client.post("/api/v1/tenants", json={"name": "Second shop"}, cookies=alice.cookies,
                          headers=alice.session_headers)
    assert r.status_code == 201, r.text
    second_id = r.json()["id"]
    tenants = (await client.get(ME, headers=alice.bearer)).json()["tenants"]
    assert {t["id"] for t in tenants} == {alice.tenant_id, second_id}

    # A tenant row.
    r = await client.put("/api/v1/tenants/current", json={"name": "Renamed shop"}, headers=alice.bearer)
    assert r.status_code == 200, r.text
    tenants = (await client.get(ME, headers=alice.bearer)).json()["tenants"]
    assert {t["name"] for t in tenants if t["id"] == alice.tenant_id} == {"Renamed shop"}

    # The same cache entry is never served to another principal of the same user.
    by_session = (await client.get(ME, cookies=alice.cookies)).json()
    by_token = (await client.get(ME, headers=alice.bearer)).json()
    assert by_session["credential"] == "session" and by_token["credential"] == "api_token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _other_process(redis_url: str):
    """The API in a separate uvicorn process on the same database and Redis."""
    port = _free_port()
    env = {**os.environ, "XINEX_REDIS_URL": redis_url, "PYTHONPATH": str(ROOT / "backend")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "xinex.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "the second API process exited"
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the second API process did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


async def _wait_for_subscribers(redis_url: str, count: int) -> None:
    from xinex.identity.credential_cache import CHANNEL

    client = aioredis.from_url(redis_url)
    try:
        for _ in range(200):
            subscribed = dict(await client.pubsub_numsub(CHANNEL))
            if subscribed.get(CHANNEL.encode(), 0) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the cache listeners did not subscribe")
    finally:
        await client.aclose()


async def test_change_and_revocation_reach_another_process_at_once(app, settings, db, signup):
    from xinex.app import create_app

    redis_url = redis_url_for_tests()
    alice = await signup()
    here = create_app(settings.model_copy(update={"redis_url": redis_url}), db=db)
    here.state.force_inprocess_jobs = True
    async with here.router.lifespan_context(here), client_for(here) as local:
        with _other_process(redis_url) as base:
            await _wait_for_subscribers(redis_url, 2)
            async with httpx.AsyncClient(base_url=base) as remote:
                # Fill the other process's caches: the token and the /me payload.
                for _ in range(2):
                    r = await remote.get(ME, headers=alice.bearer)
                    assert r.status_code == 200 and r.json()["name"] == "Test"

                assert (await local.put(ME, json={"name": "Changed here"}, headers=alice.bearer)).status_code == 200
                r = await remote.get(ME, headers=alice.bearer)
                assert r.status_code == 200 and r.json()["name"] == "Changed here"

                token_id = (await local.get("/api/v1/api-tokens", headers=alice.bearer)).json()["items"][0]["id"]
                r = await local.delete(f"/api/v1/api-tokens/{token_id}", cookies=alice.cookies,
                                       headers=alice.session_headers)
                assert r.status_code == 204
                assert_error(await remote.get(ME, headers=alice.bearer), 401, "UNAUTHENTICATED")
