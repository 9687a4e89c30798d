"""Fan-out of tenant events to WebSocket subscribers.

With `redis_url` set every event goes through Redis pub/sub (channel `xinex:rt:<tenant>`), so
all API replicas (and workers, which publish only) see it; otherwise it stays in this process.
Each app owns one `Hub`; it subscribes while it has WebSocket clients and stops when the last
one leaves. Events of one tenant arrive in publish order (one Redis connection, FIFO queues).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
import weakref
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.db import after_commit
from xinex.kit.types import to_rfc3339, utcnow

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

log = logging.getLogger("xinex.realtime")

CHANNEL_PREFIX = "xinex:rt:"
REDIS_TIMEOUT_S = 2.0
WARN_EVERY_S = 60.0
QUEUE_MAX = 1000  # a client this far behind is dropped rather than growing memory


class Subscription:
    def __init__(self, hub: Hub, tenant_id: uuid.UUID) -> None:
        self.hub = hub
        self.tenant_id = tenant_id
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_MAX)
        self.overflowed = False

    def offer(self, data: str) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed = True
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)  # tells the endpoint to close: the client must resync

    async def close(self) -> None:
        await self.hub.unsubscribe(self)


class Hub:
    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self.subscribers: dict[uuid.UUID, set[Subscription]] = defaultdict(set)
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        _HUBS.add(self)

    @property
    def count(self) -> int:
        return sum(len(s) for s in self.subscribers.values())

    async def subscribe(self, tenant_id: uuid.UUID) -> Subscription:
        sub = Subscription(self, tenant_id)
        async with self._lock:
            if self.redis_url and self._reader is None:
                await self._start_redis()
            self.subscribers[tenant_id].add(sub)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        async with self._lock:
            subs = self.subscribers.get(sub.tenant_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.subscribers[sub.tenant_id]
            if not self.subscribers:
                await self._stop_redis()

    async def _start_redis(self) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(self.redis_url, socket_connect_timeout=REDIS_TIMEOUT_S)
        self._pubsub = pubsub = self._redis.pubsub()
        try:
            await pubsub.psubscribe(CHANNEL_PREFIX + "*")
            # Wait for the confirmation: events published after subscribe() returns must not be missed.
            for _ in range(50):
                msg = await pubsub.get_message(timeout=0.1)
                if msg and msg.get("type") == "psubscribe":
                    break
        except BaseException:
            await self._stop_redis()  # Redis down: the next subscriber tries afresh (the client gets 1013)
            raise
        self._reader = asyncio.create_task(self._read(pubsub))

    async def _stop_redis(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
            self._pubsub = None
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            try:
                msg = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _warn_redis_down("subscription", exc)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await pubsub.psubscribe(CHANNEL_PREFIX + "*")
                continue
            if not msg or msg.get("type") != "pmessage":
                continue
            channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
            data = msg["data"].decode() if isinstance(msg["data"], bytes) else msg["data"]
            try:
                tenant_id = uuid.UUID(channel.removeprefix(CHANNEL_PREFIX))
            except ValueError:
                continue
            self.dispatch(tenant_id, data)

    def dispatch(self, tenant_id: uuid.UUID, data: str) -> None:
        for sub in list(self.subscribers.get(tenant_id, ())):
            sub.offer(data)


_HUBS: weakref.WeakSet[Hub] = weakref.WeakSet()
_publishers: dict[str, Redis] = {}
PENDING_KEY = "xinex.realtime.pending"  # session.info: events to publish after its commit


def hub_for(app: Any) -> Hub:
    hub = getattr(app.state, "realtime_hub", None)
    if hub is None:
        hub = Hub(app.state.settings.redis_url)
        app.state.realtime_hub = hub
    return hub


def encode(tenant_id: uuid.UUID, event: dict[str, Any]) -> str:
    body = {"ts": to_rfc3339(utcnow()), **event, "tenant_id": str(tenant_id)}
    return json.dumps(body, separators=(",", ":"), default=str)


async def publish(tenant_id: uuid.UUID | str, event: dict[str, Any], *, redis_url: str | None = None) -> None:
    """Send `event` (a JSON-able dict with a "type") to every subscriber of `tenant_id`.

    Redis-backed hubs (and processes with XINEX_REDIS_URL but no hub, e.g. workers) publish once
    per Redis; in-process hubs get the event directly."""
    tenant_id = uuid.UUID(str(tenant_id))
    data = encode(tenant_id, event)
    urls = {h.redis_url for h in _HUBS if h.redis_url}
    if redis_url is None and not _HUBS:
        from xinex.settings import get_settings

        redis_url = get_settings().redis_url
    if redis_url:
        urls.add(redis_url)
    for url in urls:
        try:
            await _publisher(url).publish(CHANNEL_PREFIX + str(tenant_id), data)
        except Exception as exc:  # never fails the caller: open feeds miss the event and resync
            _warn_redis_down("publish", exc)
    for hub in list(_HUBS):
        if not hub.redis_url:
            hub.dispatch(tenant_id, data)


async def publish_many(events: list[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    """`publish` for many events at once: one Redis pipeline (a single round trip) per Redis,
    whatever the number of events or tenants; in-process hubs get them directly, in order."""
    if not events:
        return
    encoded = [(tenant_id, CHANNEL_PREFIX + str(tenant_id), encode(tenant_id, event)) for tenant_id, event in events]
    urls = {h.redis_url for h in _HUBS if h.redis_url}
    if not _HUBS:
        from xinex.settings import get_settings

        if get_settings().redis_url:
            urls.add(get_settings().redis_url)
    for url in urls:
        try:
            pipe = _publisher(url).pipeline(transaction=False)
            for _, channel, data in encoded:
                pipe.publish(channel, data)
            await pipe.execute()
        except Exception as exc:  # never fails the caller: open feeds miss the events and resync
            _warn_redis_down("publish", exc)
    for hub in list(_HUBS):
        if not hub.redis_url:
            for tenant_id, _, data in encoded:
                hub.dispatch(tenant_id, data)


def publish_after_commit(session: AsyncSession, tenant_id: uuid.UUID, event: dict[str, Any]) -> None:
    """`publish` once `session`'s transaction commits (never if it rolls back); best effort: what
    happened is already committed, so a failure is logged, not raised. The events of one transaction
    go out together (`publish_many`: one Redis round trip, where the incident engine's batch of
    appends to 200 incidents took 200)."""
    info = session.sync_session.info
    pending: list[tuple[uuid.UUID, dict[str, Any]]] | None = info.get(PENDING_KEY)
    if pending is None:
        pending = info[PENDING_KEY] = []

        async def _send() -> None:
            events = info.pop(PENDING_KEY, [])
            try:
                await publish_many(events)
            except Exception:
                log.exception("real-time publish failed")

        after_commit(session, _send)
    pending.append((uuid.UUID(str(tenant_id)), event))


def _publisher(url: str) -> Redis:
    # One client per (url, event loop): redis.asyncio connections belong to the loop that made them.
    key = f"{url}|{id(asyncio.get_running_loop())}"
    client = _publishers.get(key)
    if client is None:
        from redis.asyncio import Redis

        client = _publishers[key] = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                                   socket_timeout=REDIS_TIMEOUT_S)
    return client


_warned_at: dict[str, float] = {}


def _warn_redis_down(what: str, exc: Exception) -> None:
    """One warning a minute per kind while Redis is unreachable, not one per event."""
    now = time.monotonic()
    if now - _warned_at.get(what, -WARN_EVERY_S) >= WARN_EVERY_S:
        _warned_at[what] = now
        log.warning("realtime: Redis %s failed (%s); WebSocket events are not fanned out until it is back",
                    what, type(exc).__name__)
