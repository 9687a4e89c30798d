"""The export job: builds the zip of a requested export (idempotent: a finished export is left alone)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from xinex.account import service
from xinex.kit.db import Database
from xinex.kit.jobs import MAX_TRIES, job

log = logging.getLogger("xinex.account")


@job
async def build_export(ctx: dict[str, Any], export_id: str, tenant_id: str) -> None:
    db: Database = ctx["db"]
    try:
        async with db.session(tenant_id=uuid.UUID(tenant_id)) as session:
            await service.build_export(session, uuid.UUID(export_id), uuid.UUID(tenant_id))
    except Exception as exc:
        log.warning("export failed (%s)", type(exc).__name__, extra={"export_id": export_id})
        if int(ctx.get("job_try") or 1) >= MAX_TRIES:
            async with db.session(tenant_id=uuid.UUID(tenant_id)) as session:
                await service.mark_export_failed(session, uuid.UUID(export_id), type(exc).__name__)
        raise
