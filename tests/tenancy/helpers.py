"""Rows of two tenants written through the system scope, so isolation tests have something to leak."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import text
from xinex.kit.types import utcnow
from xinex.models.identity import ApiToken
from xinex.models.tenant import Invitation


async def seed_rows(db, tenant_id: str, user_id: str, n: int = 2) -> list[uuid.UUID]:
    """`n` API tokens and `n` invitations in `tenant_id`; returns the token ids."""
    ids = []
    async with db.session(tenant_id=uuid.UUID(tenant_id)) as s:
        for _ in range(n):
            token = ApiToken(user_id=uuid.UUID(user_id), name="seed", token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                             prefix="xinex_seed", scopes=["*:read"])
            s.add(token)
            s.add(Invitation(email=f"seed-{uuid.uuid4().hex[:8]}@example.com", token_hash=uuid.uuid4().hex * 2,
                             expires_at=utcnow() + timedelta(days=1)))
            ids.append(token.id)
    return ids


async def without_rls(session) -> None:
    """Switch the PostgreSQL wall off for this transaction, so a test sees the ORM layer alone."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT set_config('xinex.system', 'on', true)"))
