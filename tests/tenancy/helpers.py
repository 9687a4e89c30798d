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


async def deliver(app) -> None:
    """Wait for queued jobs (mail). `enqueue` uses the process-wide queue, which a test that starts
    a second app replaces, so drain that one too."""
    from xinex.kit.jobs import get_queue

    await app.state.jobs.drain()
    queue = get_queue()
    if queue is not app.state.jobs and hasattr(queue, "drain"):
        await queue.drain()


def mailed_token(smtp_server, email: str, subject: str = "invited") -> str:
    """The token of the newest mail to `email` whose subject contains `subject`."""
    import re

    messages = [m for m in smtp_server.to(email) if subject in m["Subject"]]
    assert messages, f"no mail to {email}"
    match = re.search(r"use this token: (\S+)", messages[-1].get_content())
    assert match, messages[-1].get_content()
    return match.group(1)


async def invite(app, client, inviter, email: str, role: str = "member") -> dict:
    r = await client.post("/api/v1/invitations", json={"email": email, "role": role}, headers=inviter.bearer)
    assert r.status_code == 201, r.text
    await deliver(app)
    return r.json()


async def join(app, client, smtp_server, signup, owner, role: str = "member"):
    """A new user who accepted an invitation into `owner`'s tenant, switched to it, with a token there."""
    email = f"member-{uuid.uuid4().hex[:10]}@example.com"
    await invite(app, client, owner, email, role)
    person = await signup(email=email)
    r = await client.post("/api/v1/invitations/accept", json={"token": mailed_token(smtp_server, email)},
                          cookies=person.cookies, headers=person.session_headers)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/tenants/switch", json={"tenant_id": owner.tenant_id},
                          cookies=person.cookies, headers=person.session_headers)
    assert r.status_code == 200, r.text
    scopes = ["*:read"] if role == "viewer" else ["*:write"]
    r = await client.post("/api/v1/api-tokens", json={"name": "joined", "scopes": scopes},
                          cookies=person.cookies, headers=person.session_headers)
    assert r.status_code == 201, r.text
    person.extra["own_tenant_id"] = person.tenant_id
    person.tenant_id = owner.tenant_id
    person.token = r.json()["token"]
    return person
