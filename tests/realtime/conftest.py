from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from tests.conftest import free_port


@contextlib.asynccontextmanager
async def serve(app, log_level: str = "warning"):
    """The app on a real uvicorn server (lifespan already run by the caller)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level=log_level))
    task = asyncio.create_task(server.serve())
    for _ in range(250):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def server(app):
    async with serve(app) as addr:
        yield addr


async def next_event(ws, timeout: float = 5.0, skip=("hello", "pong")) -> dict:
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if event.get("type") not in skip:
            return event


async def ticket(client, account) -> str:
    r = await client.post("/api/v1/ws/ticket", headers=account.bearer)
    assert r.status_code == 200, r.text
    return r.json()["ticket"]
