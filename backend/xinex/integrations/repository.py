"""Integration queries on the kit base. Tenant scoping comes from the session (kit/tenancy.py); the one
cross-tenant query, the key lookup of an inbound request (cached per process: by_key), names its system scope."""

from __future__ import annotations

import asyncio
import hashlib
import time

from sqlalchemy import Select, select
from sqlmodel import col

from xinex.kit.db import Database
from xinex.kit.repository import Repository
from xinex.models.integrations import Integration

KEY_LOOKUP_SCOPE = "integrations.key_lookup"
KEY_TTL = 2.0  # seconds a key → integration answer is reused by this process
KEY_CACHE_MAX = 10_000


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class IntegrationRepository(Repository[Integration]):
    model = Integration
    label = "integration"

    def listing(self, kind: str | None = None) -> Select[Integration]:
        stmt = self.select()
        if kind is not None:
            stmt = stmt.where(col(Integration.kind) == kind)
        return stmt.order_by(col(Integration.created_at), col(Integration.id))


_keys: dict[str, tuple[float, Integration | None]] = {}
_looking_up: dict[str, asyncio.Future[Integration | None]] = {}  # look-ups in flight, by key hash


def forget_keys() -> None:
    """Drop every cached key answer (an integration changed, rotated its key or was deleted)."""
    _keys.clear()


async def by_key(db: Database, key: str) -> Integration | None:
    """The integration of a secret key (a detached row: read it, never change it), or None. When the
    answer expires under load, the requests of that moment share one look-up instead of each running
    their own (a burst of 32 SELECTs every KEY_TTL otherwise)."""
    digest = key_hash(key)
    hit = _keys.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    pending = _looking_up.get(digest)
    if pending is not None:
        return await asyncio.shield(pending)
    pending = asyncio.get_running_loop().create_future()
    _looking_up[digest] = pending
    try:
        integration = await _lookup(db, digest)
    except Exception as exc:
        pending.set_exception(exc)
        pending.exception()  # marked retrieved: the waiters (if any) get it, and none is fine too
        raise
    except BaseException:
        pending.cancel()
        raise
    else:
        pending.set_result(integration)
    finally:
        _looking_up.pop(digest, None)
    if len(_keys) >= KEY_CACHE_MAX:
        _keys.clear()
    _keys[digest] = (time.monotonic() + KEY_TTL, integration)
    return integration


async def _lookup(db: Database, digest: str) -> Integration | None:
    async with db.session(system=KEY_LOOKUP_SCOPE) as session:
        found = (await session.execute(select(Integration).where(col(Integration.key_hash) == digest)))
        integration = found.scalar_one_or_none()
        if integration is not None:
            session.expunge(integration)
    return integration
