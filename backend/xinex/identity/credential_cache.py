"""Process-local caches of what a credential resolves to, invalidated on every change that could alter it.

Two kinds of entries share one invalidation: resolved API tokens, and views derived from the same rows
(the caller's `/me` payload: user, memberships, tenants). Revocation stays immediate: any committed
change to an API token, a membership, a tenant or a user clears this process's caches synchronously
at commit, and is broadcast on Redis so other API replicas clear theirs; the broadcast is awaited
before the request that made the change is acknowledged (kit.db after-commit hooks). A short TTL
bounds anything missed, such as a change made by hand in SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from xinex.identity.principal import Principal
from xinex.kit.db import AFTER_COMMIT_KEY

log = logging.getLogger("xinex.auth.cache")

CHANNEL = "xinex:credential-invalidate"
BROADCAST_TIMEOUT_S = 2.0
CHANGED_KEY = "xinex.credentials_changed"
NEUTRAL_OPTION = "credential_cache_neutral"  # e.g. the last-used touch: no need to invalidate


@dataclass
class CachedToken:
    principal: Principal
    expires_at: datetime | None
    revoked_at: datetime | None  # a rotated token keeps working until this moment
    last_used_at: datetime | None


class _BoundedTtlMap:
    """Least-recently-inserted eviction, entries older than the TTL are misses."""

    def __init__(self, max_entries: int, ttl_s: float) -> None:
        self.entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self.max_entries = max_entries
        self.ttl_s = ttl_s

    def get(self, key: Any) -> Any:
        hit = self.entries.get(key)
        if hit is None:
            return None
        if time.monotonic() - hit[0] > self.ttl_s:
            self.entries.pop(key, None)
            return None
        return hit[1]

    def put(self, key: Any, value: Any) -> None:
        self.entries[key] = (time.monotonic(), value)
        if len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()


class CredentialCache:
    def __init__(self, max_entries: int = 10_000, ttl_s: float = 60.0) -> None:
        self.tokens = _BoundedTtlMap(max_entries, ttl_s)
        self.views = _BoundedTtlMap(max_entries, ttl_s)
        self.generation = 0
        self.publisher: Callable[[], Coroutine[Any, Any, None]] | None = None  # set when Redis is configured

    def get(self, token_hash: str) -> CachedToken | None:
        entry: CachedToken | None = self.tokens.get(token_hash)
        return entry

    def put(self, token_hash: str, entry: CachedToken, generation: int) -> None:
        if generation != self.generation:
            return  # invalidated while we were reading: the row we read may already be stale
        self.tokens.put(token_hash, entry)

    def get_view(self, key: Any) -> Any:
        """A response derived from user/membership/tenant rows (e.g. `/me`), or None."""
        return self.views.get(key)

    def put_view(self, key: Any, value: Any, generation: int) -> None:
        if generation != self.generation:
            return
        self.views.put(key, value)

    def clear(self) -> None:
        self.generation += 1
        self.tokens.clear()
        self.views.clear()


CACHE = CredentialCache()


def _credential_models() -> tuple[type, ...]:
    from xinex.models.identity import ApiToken, User
    from xinex.models.tenant import Membership, Tenant

    return (ApiToken, Membership, Tenant, User)


def _view_models() -> tuple[type, ...]:
    """Rows whose mere creation changes a cached view (a new membership shows up in `/me`)."""
    from xinex.models.tenant import Membership, Tenant

    return (Membership, Tenant)


@event.listens_for(Session, "before_flush")
def _note_changed_objects(session: Session, flush_context: object, instances: object) -> None:
    models = _credential_models()
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, models):
            session.info[CHANGED_KEY] = True
            return
    created = _view_models()
    for obj in session.new:
        if isinstance(obj, created):
            session.info[CHANGED_KEY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if state.is_select or state.execution_options.get(NEUTRAL_OPTION):
        return
    if state.is_update or state.is_delete:
        models = _credential_models()
    elif state.is_insert:
        models = _view_models()
    else:
        return
    if any(issubclass(m.class_, models) for m in state.all_mappers):
        state.session.info[CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _invalidate_on_commit(session: Session) -> None:
    if not session.info.pop(CHANGED_KEY, False):
        return
    CACHE.clear()
    if CACHE.publisher is None:
        return
    try:
        task = asyncio.get_running_loop().create_task(CACHE.publisher())
    except RuntimeError:
        return

    async def broadcast_sent() -> None:
        # kit.db.commit awaits this before the request is acknowledged, so another replica hears of
        # a revocation before the client can send its next request.
        await task

    session.info.setdefault(AFTER_COMMIT_KEY, []).append(broadcast_sent)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)


async def run_invalidation_listener(redis_url: str, stop: asyncio.Event) -> None:
    """Clear this replica's caches whenever another replica commits a credential change."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)  # type: ignore[no-untyped-call]

    async def publish() -> None:
        try:
            # Bounded: a Redis that stops answering (a partition) must not hold the request.
            await asyncio.wait_for(client.publish(CHANNEL, b"1"), BROADCAST_TIMEOUT_S)
        except Exception:  # the TTL still bounds staleness; never fail the request
            log.warning("could not broadcast a credential-cache invalidation")

    async def listen() -> None:
        await pubsub.subscribe(CHANNEL)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                CACHE.clear()

    CACHE.publisher = publish
    pubsub = client.pubsub()
    # Raced against `stop`: a subscribe to a Redis that stopped answering would otherwise hold the
    # process's shutdown for as long as TCP takes to give up.
    listening = asyncio.create_task(listen())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if listening.done():
            listening.result()  # raises what ended it, for the supervisor to start it again
    finally:
        for task in (listening, stopping):
            task.cancel()
        await asyncio.gather(listening, stopping, return_exceptions=True)
        CACHE.publisher = None
        with contextlib.suppress(Exception):  # bounded: closing may talk to a silent Redis
            await asyncio.wait_for(pubsub.aclose(), BROADCAST_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.aclose(), BROADCAST_TIMEOUT_S)


async def broadcast_invalidation(redis_url: str) -> None:
    """Clear every API replica's caches from a process that serves no requests (e.g. the `xinex user`
    command): the same message a replica publishes after committing a credential change."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)  # type: ignore[no-untyped-call]
    try:
        await client.publish(CHANNEL, b"1")
    finally:
        await client.aclose()
