"""Helpers for status-page tests: a page with components, and a JSON walk for forbidden keys."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import pytest

BASE = "/api/v1/status-pages"
PUBLIC = "/api/v1/public/status-pages"


def slug() -> str:
    return f"sp-{uuid.uuid4().hex[:10]}"


async def make_page(client, account, **body) -> dict:
    body.setdefault("name", "Acme status")
    body.setdefault("slug", slug())
    r = await client.post(BASE, json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def make_component(client, account, page_id: str, **body) -> dict:
    body.setdefault("name", f"component {uuid.uuid4().hex[:4]}")
    r = await client.post(f"{BASE}/{page_id}/components", json=body, headers=account.bearer)
    assert r.status_code == 201, r.text
    return r.json()


async def set_tier(db, tenant_id: str, tier: str) -> None:
    from sqlalchemy import update
    from xinex.kit.tenancy import system_scope
    from xinex.models.tenant import Tenant

    async with db.session() as session:
        await system_scope(session, "test: plan change")
        await session.execute(update(Tenant).where(Tenant.id == uuid.UUID(tenant_id)).values(tier=tier))


@pytest.fixture(scope="module")
def http_target():
    from tests.monitors.conftest import HttpTarget

    target = HttpTarget()
    yield target
    target.close()


async def make_monitor(client, db, account, url: str) -> dict:
    """A monitor created through the API whose checks the test runs (out of the app's scheduler)."""
    from sqlalchemy import update
    from xinex.models.monitors import Monitor

    r = await client.post("/api/v1/monitors", headers=account.bearer,
                          json={"type": "http", "name": f"web {uuid.uuid4().hex[:6]}", "url": url, "interval": 300,
                                "paused": True})
    assert r.status_code == 201, r.text
    data = r.json()
    async with db.session(system="test") as session:
        await session.execute(update(Monitor).where(Monitor.id == uuid.UUID(data["id"]))
                              .values(status="pending", next_check_at=None))
    return data


async def check(db, monitor: dict) -> None:
    from xinex.monitors import jobs as scheduler

    await scheduler.run_monitors(db, [uuid.UUID(monitor["id"])])


UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
FORBIDDEN_KEYS = {"id", "tenant_id", "page_id", "group_id", "component_id", "source_id", "source_type", "monitor_id",
                  "heartbeat_id", "incident_id", "linked_incident_id", "url", "target", "config", "password",
                  "password_hash", "status_override", "secret", "email", "custom_domain", "visibility", "tags"}


def forbidden_keys(value, path: str = "$") -> list[str]:
    """Every key on the public JSON that names something internal."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in FORBIDDEN_KEYS:
                found.append(f"{path}.{k}")
            found += forbidden_keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += forbidden_keys(v, f"{path}[{i}]")
    return found


async def wait_for(predicate, timeout: float = 5.0, interval: float = 0.05):
    """Poll until predicate() (a coroutine function) returns a truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(interval)
