"""Billing's background work: processing stored Stripe events, and the loop that ends expired
grace periods and re-queues events whose job was lost."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from xinex.billing import repository, service, stripe_api
from xinex.kit.db import Database
from xinex.kit.jobs import job
from xinex.kit.loops import supervise, wait_or_stop
from xinex.kit.types import utcnow

log = logging.getLogger("xinex.billing")

SWEEP_EVERY_S = 60.0
REQUEUE_AFTER_S = 120.0  # a stored event not processed by then lost its job (crash, Redis): queue it again


@job
async def process_stripe_event(ctx: dict[str, Any], event_id: str) -> None:
    """Process one stored event, once: a processed event is skipped, so a job that runs twice (or
    a replayed webhook) changes nothing more."""
    db: Database = ctx["db"]
    async with db.session(system="billing: a Stripe event names its customer, not a tenant") as session:
        row = await repository.event_for_processing(session, event_id)
        if row is None or row.processed_at is not None:
            return
        obj = (row.payload.get("data") or {}).get("object") or {}
        customer = obj.get("id") if obj.get("object") == "customer" else obj.get("customer")
        row.attempts += 1
        async with service.customer_lock(str(customer or "")):
            tenant_id, outcome = await service.handle_event(session, row.payload)
        row.tenant_id = tenant_id
        row.outcome = outcome[:200]
        row.processed_at = utcnow()


async def sweep_once(db: Database) -> tuple[int, int]:
    """(tenants moved to free after their grace, events re-queued)."""
    async with db.session(system="billing: grace periods of every tenant") as session:
        moved = await service.end_expired_grace(session)
    async with db.session(system="billing: stored events whose job was lost") as session:
        stale = await repository.unprocessed_event_ids(session, utcnow() - timedelta(seconds=REQUEUE_AFTER_S))
    for event_id in stale:
        await process_stripe_event({"db": db}, event_id=event_id)
    return moved, len(stale)


async def run_billing_sweeper(db: Database, stop: asyncio.Event) -> None:
    async def loop() -> None:
        while not stop.is_set():
            if stripe_api.configured():
                try:
                    await sweep_once(db)
                except Exception as exc:  # noqa: BLE001 - the next round tries again
                    log.warning("billing sweep failed (%s)", type(exc).__name__)
            if await wait_or_stop(stop, SWEEP_EVERY_S):
                return

    await supervise("billing sweeper", loop, stop)
