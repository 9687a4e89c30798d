"""Two app instances sharing Redis: an event published anywhere reaches clients of both."""

from __future__ import annotations

import json
import os
import uuid

from redis.asyncio import Redis
from websockets.asyncio.client import connect
from xinex.realtime.bus import CHANNEL_PREFIX, publish

from tests.realtime.conftest import next_event, serve, ticket


async def test_events_cross_instances_through_redis(client, settings, db, alice, outsider):
    from xinex.app import create_app

    redis_url = os.environ["XINEX_TEST_REDIS_URL"]
    apps = []
    for _ in range(2):
        instance = create_app(settings.model_copy(update={"redis_url": redis_url}), db=db)
        instance.state.force_inprocess_jobs = True  # no arq worker in tests; only fan-out uses Redis here
        apps.append(instance)
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]), \
            serve(apps[0]) as one, serve(apps[1]) as two:
        # Tickets live in Redis: issued by instance one, redeemed by instance two.
        import httpx

        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://t") as c1:
            t = await ticket(c1, alice)
        async with connect(f"ws://{two}/api/v1/ws?token={t}") as on_two, \
                connect(f"ws://{one}/api/v1/ws?token={alice.token}") as on_one, \
                connect(f"ws://{one}/api/v1/ws?token={outsider.token}") as outsider_ws:
            # A publisher with no hub of its own (like a worker) goes through Redis only.
            raw = Redis.from_url(redis_url)
            try:
                payload = json.dumps({"type": "incident.triggered", "tenant_id": alice.tenant_id, "n": 1})
                await raw.publish(CHANNEL_PREFIX + alice.tenant_id, payload)
            finally:
                await raw.aclose()
            assert (await next_event(on_two))["n"] == 1
            assert (await next_event(on_one))["n"] == 1
            for n in range(2, 12):
                await publish(uuid.UUID(alice.tenant_id), {"type": "monitor.down", "n": n})
            assert [(await next_event(on_two))["n"] for _ in range(10)] == list(range(2, 12))
            assert [(await next_event(on_one))["n"] for _ in range(10)] == list(range(2, 12))
            await publish(outsider.tenant_id, {"type": "monitor.up", "who": "outsider"})
            assert (await next_event(outsider_ws))["who"] == "outsider"
