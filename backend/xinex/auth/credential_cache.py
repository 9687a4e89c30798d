"""Process-local cache of resolved API tokens, invalidated on every change that could revoke one.

Revocation stays immediate: any committed change to an API token, a membership, a tenant or a user
clears this process's cache synchronously at commit, and is broadcast on Redis so other API
replicas clear theirs (within the pub/sub delivery time). A short TTL bounds anything missed,
such as a change made by hand in SQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from xinex.auth.principal import Principal

log = logging.getLogger("xinex.auth.cache")

CHANNEL = "xinex:credential-invalidate"
CHANGED_KEY = "xinex.credentials_changed"
NEUTRAL_OPTION = "credential_cache_neutral"  # e.g. the last-used touch: no need to invalidate


@dataclass
class CachedToken:
    principal: Principal
    expires_at: datetime | None
    revoked_at: datetime | None  # a rotated token keeps working until this moment
    last_used_at: datetime | None
    cached_at: float


class CredentialCache:
    def __init__(self, max_entries: int = 10_000, ttl_s: float = 60.0) -> None:
        self.entries: OrderedDict[str, CachedToken] = OrderedDict()
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.generation = 0
        self.publisher = None  # async callable set when Redis is configured

    def get(self, token_hash: str) -> CachedToken | None:
        entry = self.entries.get(token_hash)
        if entry is None:
            return None
        if time.monotonic() - entry.cached_at > self.ttl_s:
            self.entries.pop(token_hash, None)
            return None
        return entry

    def put(self, token_hash: str, entry: CachedToken, generation: int) -> None:
        if generation != self.generation:
            return  # invalidated while we were reading: the row we read may already be stale
        self.entries[token_hash] = entry
        if len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.generation += 1
        self.entries.clear()


CACHE = CredentialCache()


def _credential_models() -> tuple[type, ...]:
    from xinex.models.identity import ApiToken, User
    from xinex.models.tenant import Membership, Tenant

    return (ApiToken, Membership, Tenant, User)


@event.listens_for(Session, "before_flush")
def _note_changed_objects(session: Session, flush_context, instances) -> None:
    models = _credential_models()
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, models):
            session.info[CHANGED_KEY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get(NEUTRAL_OPTION):
        return
    models = _credential_models()
    if any(issubclass(m.class_, models) for m in state.all_mappers):
        state.session.info[CHANGED_KEY] = True


@event.listens_for(Session, "after_commit")
def _invalidate_on_commit(session: Session) -> None:
    if not session.info.pop(CHANGED_KEY, False):
        return
    CACHE.clear()
    if CACHE.publisher is not None:
        try:
            asyncio.get_running_loop().create_task(CACHE.publisher())
        except RuntimeError:
            pass


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(CHANGED_KEY, None)


async def run_invalidation_listener(redis_url: str, stop: asyncio.Event) -> None:
    """Clear this replica's cache whenever another replica commits a credential change."""
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url)

    async def publish() -> None:
        try:
            await client.publish(CHANNEL, b"1")
        except Exception:  # the TTL still bounds staleness; never fail the request
            log.warning("could not broadcast a credential-cache invalidation")

    CACHE.publisher = publish
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    try:
        while not stop.is_set():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                CACHE.clear()
    finally:
        CACHE.publisher = None
        await pubsub.aclose()
        await client.aclose()
