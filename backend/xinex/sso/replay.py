"""Server-side SAML state: the AuthnRequests we issued and the assertion IDs we already accepted.

Both are single use by construction: an assertion ID is an insert into a unique index (a second
insert fails even when two requests race), a request is consumed by compare-and-set.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.types import utcnow
from xinex.models.sso import SamlAssertionSeen, SamlRequest

REQUEST_TTL = timedelta(minutes=10)
# Kept at least this long even if the IdP states a shorter lifetime: covers the clock drift
# python3-saml tolerates when it checks NotOnOrAfter.
MIN_REPLAY_WINDOW = timedelta(minutes=15)


async def issue_request(session: AsyncSession, request_id: str) -> SamlRequest:
    row = SamlRequest(request_id=request_id, expires_at=utcnow() + REQUEST_TTL)
    session.add(row)
    await session.flush()
    return row


async def find_request(session: AsyncSession, request_id: str) -> SamlRequest | None:
    """The tenant's unexpired request with this id (used or not: reuse is decided later)."""
    return (await session.execute(
        select(SamlRequest).where(SamlRequest.request_id == request_id, SamlRequest.expires_at > utcnow())
    )).scalar_one_or_none()


async def consume_request(session: AsyncSession, row: SamlRequest) -> bool:
    result = await session.execute(
        update(SamlRequest).where(SamlRequest.id == row.id, SamlRequest.used_at.is_(None)).values(used_at=utcnow())
    )
    return result.rowcount == 1


async def remember_assertion(session: AsyncSession, assertion_id: str, not_on_or_after: datetime | None) -> bool:
    """True the first time this tenant sees `assertion_id`, False on every later attempt."""
    expires_at = max(not_on_or_after or utcnow(), utcnow() + MIN_REPLAY_WINDOW)
    try:
        async with session.begin_nested():
            session.add(SamlAssertionSeen(assertion_id=assertion_id, expires_at=expires_at))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def prune(session: AsyncSession) -> None:
    """Drop the current tenant's expired entries (cheap, indexed; runs on each ACS post)."""
    now = utcnow()
    await session.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.expires_at < now))
    await session.execute(delete(SamlRequest).where(SamlRequest.expires_at < now - REQUEST_TTL))
