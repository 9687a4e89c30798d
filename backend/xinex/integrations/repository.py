"""Integration queries on the kit base. Tenant scoping comes from the session (kit/tenancy.py); the one
cross-tenant query, the key lookup of an inbound request (cached per process: by_key), names its system scope."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import uuid

from sqlalchemy import Select, String, cast, func, select
from sqlmodel import col

from xinex.kit.db import Database
from xinex.kit.repository import Repository
from xinex.models.incidents import Incident
from xinex.models.integrations import Integration

KEY_LOOKUP_SCOPE = "integrations.key_lookup"
KEY_TTL = 2.0  # seconds a key → integration answer is reused by this process
KEY_CACHE_MAX = 10_000
TINY = re.compile(r"^[0-9a-fA-F]{8}$")


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


async def sender_key_of_incident(db: Database, i: Integration, identifier: str, identifier_type: str) -> str | None:
    """The sender's key (Opsgenie's alias) of an incident this integration opened, named by its id
    (`identifierType=id`: the incident id) or its short id (`tiny`: the id's first 8 hexadecimal digits,
    as the timeline and the terminal show it); None when it names no incident of this integration."""
    prefix = f"integration:{i.id}:"
    stmt = select(col(Incident.dedup_key)).where(col(Incident.source_type) == "integration",
                                                 col(Incident.source_id) == i.id)
    if identifier_type == "id":
        try:
            stmt = stmt.where(col(Incident.id) == uuid.UUID(identifier))
        except ValueError:
            return None
    else:
        if not TINY.match(identifier):
            return None
        stmt = stmt.where(func.lower(cast(col(Incident.id), String)).startswith(identifier.lower()))
    async with db.session(tenant_id=i.tenant_id) as session:
        keys = set((await session.execute(stmt.limit(2))).scalars())
    if len(keys) != 1:
        return None  # none, or a short id two incidents share
    key = keys.pop()
    return key[len(prefix):] if key.startswith(prefix) else None
