"""Did the paging of an incident reach anyone? If every page has ended and no delivery succeeded —
no channel on the route, every channel failed for good, e-mail without SMTP, push without a
provider, only the in-app feed — the incident gets a `delivery_warning`, a timeline entry, and an
item in the owners' and admins' in-app feed, instead of a silence only /notification-log shows.

`review` runs in the transaction that ends a page (oncall.paging) or fires a step
(oncall.escalation). The in-app feed does not count as reaching someone: it is where this warning
is shown. A later delivery that succeeds (a retry, an escalation step) clears the field.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from xinex.events import timeline
from xinex.kit.tenancy import bound_tenant
from xinex.models.incidents import Incident, IncidentStatus
from xinex.models.notify import NotificationAttempt, NotificationChannel
from xinex.models.oncall import Page, PageStatus
from xinex.models.tenant import Membership, Role
from xinex.realtime.bus import publish_after_commit

PAGING_EVENTS = ("incident.triggered", "incident.escalated")
IN_FLIGHT = ("pending", "sending", "retrying")
MAX_WARNING = 1000


async def review(session: AsyncSession, incident: Incident, now: datetime) -> str | None:
    """Set or clear the incident's delivery warning from what its pages and deliveries say now.
    Returns the warning when this call set it."""
    if incident.status != IncidentStatus.triggered.value or incident.suppressed:
        return None
    page_rows = (await session.execute(select(col(Page.target_type), col(Page.status)).where(
        col(Page.incident_id) == incident.id, col(Page.event).in_(PAGING_EVENTS)))).all()
    if any(status in (PageStatus.pending.value, PageStatus.sending.value) for _, status in page_rows):
        return None  # a page is still on its way
    attempts = (await session.execute(select(
        col(NotificationAttempt.status), col(NotificationAttempt.kind), col(NotificationAttempt.channel_id),
        col(NotificationAttempt.error)).where(col(NotificationAttempt.incident_id) == incident.id,
                                         col(NotificationAttempt.event).in_(PAGING_EVENTS)))).all()
    if any(a.status == "succeeded" for a in attempts):
        if incident.delivery_warning is not None:
            await _clear(session, incident, now)
        return None
    if any(a.status in IN_FLIGHT for a in attempts) or incident.delivery_warning is not None:
        return None
    warning = await _explain(session, page_rows, attempts)
    won = (await session.execute(
        update(Incident).where(col(Incident.id) == incident.id, col(Incident.delivery_warning).is_(None))
        .values(delivery_warning=warning).returning(col(Incident.id)).execution_options(synchronize_session=False)
    )).scalar_one_or_none()
    if won is None:
        return None  # another delivery ending at the same time said it first
    incident.delivery_warning = warning
    timeline.add(session, incident, "delivery_warning", warning, now)
    await _tell_owners(session, incident, warning)
    publish_after_commit(session, incident.tenant_id,
                     timeline.incident_event("incident.delivery_warning", incident, warning=warning))
    return warning


async def _explain(session: AsyncSession, page_rows: Sequence[Any], attempts: Sequence[Any]) -> str:
    names: dict[uuid.UUID, str] = {}
    channel_ids = {a.channel_id for a in attempts if a.channel_id}
    if channel_ids:
        names = dict((await session.execute(select(col(NotificationChannel.id), col(NotificationChannel.name))
                                            .where(col(NotificationChannel.id).in_(channel_ids)))).all())
    reasons: list[str] = []
    if not any(target_type == "channel" for target_type, _ in page_rows):
        reasons.append("no channel on the route")
    if not page_rows:
        reasons.append("nobody was paged")
    for a in attempts:
        what = (f"channel {names[a.channel_id]!r} ({a.kind})" if a.channel_id in names
                else f"{a.kind} channel (deleted)" if a.channel_id else f"{a.kind} to a user")
        why = a.error or a.status.replace("_", " ")
        reason = f"{what}: {why}"
        if reason not in reasons:
            reasons.append(reason)
    if page_rows and not attempts:
        reasons.append("users were told in the in-app feed only")
    return ("Paging reached no working channel — " + "; ".join(reasons))[:MAX_WARNING]


async def _clear(session: AsyncSession, incident: Incident, now: datetime) -> None:
    await session.execute(update(Incident).where(col(Incident.id) == incident.id)
                          .values(delivery_warning=None).execution_options(synchronize_session=False))
    incident.delivery_warning = None
    timeline.add(session, incident, "delivery_recovered", "A page has now been delivered", now)


async def _tell_owners(session: AsyncSession, incident: Incident, warning: str) -> None:
    from xinex.notify import feed
    from xinex.notify.message import NotificationMessage, incident_link
    from xinex.settings import get_settings

    bound_tenant(session)  # memberships: the bound tenant's criterion (an unbound session would read every tenant's)
    users = (await session.execute(select(col(Membership.user_id)).where(
        col(Membership.role).in_([Role.owner.value, Role.admin.value])))).scalars().all()
    message = NotificationMessage(
        tenant_id=incident.tenant_id, event="incident.unreached", title=f"Nobody was reached: {incident.title}",
        body=warning, severity="warning", incident_id=incident.id,
        url=incident_link(get_settings().public_url, incident.id),
        dedup_key=f"unreached:{incident.id}", incident_key=incident.dedup_key)
    for user_id in users:
        await feed.add(session, uuid.UUID(str(user_id)), message)
