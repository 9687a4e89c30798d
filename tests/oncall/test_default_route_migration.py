"""Migration 0032: existing tenants get exactly one default route; channels nothing used join it;
channels a rule or policy uses keep their routing; extra default rules (shadowed, never matched)
become ordinary disabled rules. On the embedded SQLite and on PostgreSQL as the non-superuser app
role (row-level security on)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine
from xinex.kit.types import UTCDateTimeType
from xinex.migrate import alembic_config

from alembic import command
from tests import _services

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = UTCDateTimeType(timezone=True)
meta = sa.MetaData()
tenants = sa.Table("tenants", meta, sa.Column("id", sa.Uuid()), sa.Column("created_at", TIME),
                   sa.Column("updated_at", TIME), sa.Column("name", sa.String()), sa.Column("slug", sa.String()),
                   sa.Column("tier", sa.String()), sa.Column("sso_enforced", sa.Boolean()))
channels = sa.Table("notification_channels", meta, sa.Column("id", sa.Uuid()), sa.Column("created_at", TIME),
                    sa.Column("updated_at", TIME), sa.Column("tenant_id", sa.Uuid()), sa.Column("name", sa.String()),
                    sa.Column("kind", sa.String()), sa.Column("config", JSON), sa.Column("enabled", sa.Boolean()))
rules = sa.Table("alert_routing_rules", meta, sa.Column("id", sa.Uuid()), sa.Column("created_at", TIME),
                 sa.Column("updated_at", TIME), sa.Column("tenant_id", sa.Uuid()), sa.Column("name", sa.String()),
                 sa.Column("position", sa.Integer()), sa.Column("enabled", sa.Boolean()),
                 sa.Column("is_default", sa.Boolean()), sa.Column("source_ids", JSON), sa.Column("tags", JSON),
                 sa.Column("severities", JSON), sa.Column("channel_ids", JSON), sa.Column("auto_resolve", sa.Boolean()))
policies = sa.Table("escalation_policies", meta, sa.Column("id", sa.Uuid()), sa.Column("created_at", TIME),
                    sa.Column("updated_at", TIME), sa.Column("tenant_id", sa.Uuid()), sa.Column("name", sa.String()),
                    sa.Column("steps", JSON), sa.Column("repeat", sa.Integer()),
                    sa.Column("repeat_delay_minutes", sa.Integer()), sa.Column("rr_cursor", sa.Integer()))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    admin = os.environ["XINEX_TEST_ADMIN_DATABASE_URL"]
    name = f"xinex_mig_{uuid.uuid4().hex[:10]}"
    asyncio.run(_services._provision_database(admin, name))
    try:
        yield _services.with_database(os.environ["XINEX_TEST_DATABASE_URL"], name)
    finally:
        asyncio.run(_services._drop_database(admin, name))


def _ids(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


async def _seed(url: str) -> dict:
    now = datetime.now(UTC)
    a, b, c = _ids(3)
    c1, c2, c3, c4 = _ids(4)
    r1, d1, d2 = _ids(3)
    stamp = {"created_at": now, "updated_at": now}
    rule = {"source_ids": [], "tags": [], "severities": [], "auto_resolve": True, **stamp}
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT set_config('xinex.system', 'on', true)"))
        await conn.execute(tenants.insert(), [{"id": t, "name": n, "slug": f"{n}-{t.hex[:6]}", "tier": "free",
                                               "sso_enforced": False, **stamp} for t, n in ((a, "a"), (b, "b"), (c, "c"))])
        await conn.execute(channels.insert(), [
            {"id": ch, "tenant_id": t, "name": f"ch{i}", "kind": "webhook", "config": {"url": "https://h.example/x"},
             "enabled": True, **stamp} for i, (ch, t) in enumerate(((c1, a), (c2, a), (c3, a), (c4, b)))])
        await conn.execute(rules.insert(), [
            {"id": r1, "tenant_id": a, "name": "db", "position": 0, "enabled": True, "is_default": False,
             "channel_ids": [str(c2)], **rule},
            {"id": d1, "tenant_id": b, "name": "catch-all", "position": 0, "enabled": True, "is_default": True,
             "channel_ids": [], **rule},
            {"id": d2, "tenant_id": b, "name": "shadowed", "position": 1, "enabled": True, "is_default": True,
             "channel_ids": [], **rule}])
        await conn.execute(policies.insert(), [{"id": uuid.uuid4(), "tenant_id": a, "name": "p", "repeat": 0,
                                                "repeat_delay_minutes": 30, "rr_cursor": 0, **stamp,
                                                "steps": [{"delay_minutes": 0, "targets": [
                                                    {"type": "channel", "id": str(c3)}]}]}])
    await engine.dispose()
    return {"a": a, "b": b, "c": c, "c1": c1, "c2": c2, "c3": c3, "c4": c4, "r1": r1, "d1": d1, "d2": d2}


async def _rules(url: str) -> list:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT set_config('xinex.system', 'on', true)"))
        rows = (await conn.execute(sa.select(rules.c.id, rules.c.tenant_id, rules.c.name, rules.c.enabled,
                                             rules.c.is_default, rules.c.channel_ids))).all()
        # The new column exists.
        await conn.execute(sa.text("SELECT delivery_warning FROM incidents"))
    await engine.dispose()
    return rows


def test_existing_tenants_get_one_default_route(empty_database):
    cfg = alembic_config(empty_database)
    command.upgrade(cfg, "0030_incidents")
    command.upgrade(cfg, "0031_notify")
    ids = asyncio.run(_seed(empty_database))
    command.upgrade(cfg, "heads")

    rows = asyncio.run(_rules(empty_database))
    defaults = {r.tenant_id: r for r in rows if r.is_default}
    assert set(defaults) == {ids["a"], ids["b"], ids["c"]}  # exactly one each (a unique index holds it)
    # a: a new default route with the channel nothing used; c2 (rule) and c3 (policy) keep theirs.
    assert defaults[ids["a"]].name == "Default route" and defaults[ids["a"]].enabled
    assert defaults[ids["a"]].channel_ids == [str(ids["c1"])]
    by_id = {r.id: r for r in rows}
    assert by_id[ids["r1"]].channel_ids == [str(ids["c2"])] and not by_id[ids["r1"]].is_default
    # b: the first default rule stays the default route (and takes the unused channel); the shadowed
    # one becomes an ordinary rule, disabled, so routing is what it was.
    assert defaults[ids["b"]].id == ids["d1"] and defaults[ids["b"]].channel_ids == [str(ids["c4"])]
    assert (by_id[ids["d2"]].is_default, by_id[ids["d2"]].enabled) == (False, False)
    # c: an empty default route.
    assert defaults[ids["c"]].channel_ids == []
