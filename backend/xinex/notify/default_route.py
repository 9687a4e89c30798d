"""The default route: the tenant's one `is_default` routing rule. It matches every alert no other
rule matched; its channels are the channels whose `default` flag is on (a new channel joins it
unless created with `"default": false`); without an escalation policy it also pages the tenant's
owners and admins, as an unrouted incident always did. docs/concepts.md explains it to users.

It lives in notify, not oncall, because channels own their place on it (a channel's create, update
and delete put it on or take it off); on-call's routing reads it as any other rule (RoutingRule)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.kit import sqlite_gate
from xinex.models.oncall import RoutingRule

NAME = "Default route"


def new_default_route(tenant_id: uuid.UUID) -> RoutingRule:
    return RoutingRule(tenant_id=tenant_id, name=NAME, is_default=True, enabled=True, position=0)


async def get_default_route(session: AsyncSession, *, for_update: bool = False) -> RoutingRule | None:
    stmt = select(RoutingRule).where(col(RoutingRule.is_default).is_(True))
    if for_update:
        # Channel creates and PUTs rewrite its list: serialise them (read-modify-write).
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        else:
            await sqlite_gate.hold(session)  # SQLite: take the one writer's turn before reading
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()


async def ensure_default_route(session: AsyncSession, tenant_id: uuid.UUID) -> RoutingRule:
    """The default route, locked for update; created if the tenant has none (the unique index on
    (tenant_id) where is_default makes a racing creation lose, and then it reads the winner's)."""
    route = await get_default_route(session, for_update=True)
    if route is not None:
        return route
    try:
        async with session.begin_nested():
            session.add(new_default_route(tenant_id))
            await session.flush()
    except IntegrityError:
        pass
    route = await get_default_route(session, for_update=True)
    assert route is not None
    return route


async def default_channel_ids(session: AsyncSession) -> set[str]:
    route = await get_default_route(session)
    return {str(c) for c in (route.channel_ids if route else [])}


async def set_on_default_route(session: AsyncSession, tenant_id: uuid.UUID, channel_id: uuid.UUID,
                               on: bool) -> None:
    route = await ensure_default_route(session, tenant_id)
    ids = [str(c) for c in route.channel_ids or []]
    if on and str(channel_id) not in ids:
        route.channel_ids = [*ids, str(channel_id)]
    elif not on and str(channel_id) in ids:
        route.channel_ids = [c for c in ids if c != str(channel_id)]
    else:
        return
    await session.flush()
