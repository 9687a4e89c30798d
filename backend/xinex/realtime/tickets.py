"""Single-use WebSocket tickets (≤ 60 s): the browser-friendly way to authenticate `?token=`.

Stored hashed, in Redis when configured (any replica can redeem) or in this process. Redeeming
deletes atomically, so a ticket opens at most one connection.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from xinex.identity.secrets import sha256_hex

if TYPE_CHECKING:
    from redis.asyncio import Redis

TICKET_PREFIX = "wst_"
TICKET_TTL_S = 30
REDIS_TIMEOUT_S = 2.0
KEY_PREFIX = "xinex:wst:"


@dataclass(frozen=True)
class Ticket:
    user_id: uuid.UUID
    tenant_id: uuid.UUID
    scopes: tuple[str, ...] | None
    expires_at: float


class TicketStore:
    def __init__(self, redis_url: str = "") -> None:
        self.redis_url = redis_url
        self.clock = time.time  # tests move time forward by replacing this
        self._local: dict[str, str] = {}
        self._lock = asyncio.Lock()

    def _redis(self) -> Redis:
        from redis.asyncio import Redis

        # Bounded: a Redis that stops answering must not hold the request (then 503, redis).
        client: Redis = Redis.from_url(self.redis_url, socket_connect_timeout=REDIS_TIMEOUT_S,
                                       socket_timeout=REDIS_TIMEOUT_S)
        return client

    async def issue(self, user_id: uuid.UUID | None, tenant_id: uuid.UUID | None, scopes: frozenset[str] | None) -> tuple[str, int]:
        raw = TICKET_PREFIX + secrets.token_urlsafe(32)
        expires_at = self.clock() + TICKET_TTL_S
        value = json.dumps({"u": str(user_id), "t": str(tenant_id),
                            "s": sorted(scopes) if scopes is not None else None, "e": expires_at})
        key = sha256_hex(raw)
        if self.redis_url:
            client = self._redis()
            try:
                await client.set(KEY_PREFIX + key, value, ex=TICKET_TTL_S)
            finally:
                await client.aclose()
        else:
            async with self._lock:
                now = self.clock()
                for k in [k for k, v in self._local.items() if json.loads(v)["e"] <= now]:
                    del self._local[k]
                self._local[key] = value
        return raw, TICKET_TTL_S

    async def redeem(self, raw: str) -> Ticket | None:
        key = sha256_hex(raw)
        if self.redis_url:
            client = self._redis()
            try:
                async with client.pipeline(transaction=True) as pipe:
                    pipe.get(KEY_PREFIX + key)
                    pipe.delete(KEY_PREFIX + key)
                    value, _ = await pipe.execute()
            finally:
                await client.aclose()
        else:
            async with self._lock:
                value = self._local.pop(key, None)
        if not value:
            return None
        data = json.loads(value)
        if data["e"] <= self.clock():
            return None
        return Ticket(uuid.UUID(data["u"]), uuid.UUID(data["t"]),
                      tuple(data["s"]) if data["s"] is not None else None, data["e"])


def store_for(app: Any) -> TicketStore:
    store = getattr(app.state, "realtime_tickets", None)
    if store is None:
        store = TicketStore(app.state.settings.redis_url)
        app.state.realtime_tickets = store
    return store
