"""Shared steps of the push tests: a phone signed in through PKCE registering its token, an open
incident, and a page of it to a user delivered by the real paging job."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from xinex.kit.types import utcnow
from xinex.models.incidents import Incident
from xinex.models.notify import NotificationAttempt
from xinex.models.oncall import Page
from xinex.models.push import PushToken
from xinex.oncall import paging

from tests.tenancy.helpers import deliver


def ios_token() -> str:
    return secrets.token_hex(32)


def android_token() -> str:
    return f"f{secrets.token_hex(5)}:APA91b{secrets.token_urlsafe(100)}"


async def signed_in_phone(mobile, account) -> str:
    """A mobile access token (JWT) for `account`, obtained the way the app does (PKCE S256)."""
    return (await mobile.sign_in(account))["access_token"]


def jwt_headers(access_token: str) -> dict:
    return {"Authorization": f"Bearer {access_token}"}


async def register(client, headers: dict, token: str, platform: str, **extra):
    return await client.post("/api/v1/push-tokens", json={"token": token, "platform": platform, **extra},
                             headers=headers)


async def open_incident(db, tenant_id, *, severity: str = "critical", service: str | None = "checkout") -> Incident:
    now = utcnow()
    key = f"push-test-{uuid.uuid4().hex[:8]}"
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        incident = Incident(dedup_key=key, open_key=key, title="checkout api is down", severity=severity,
                            service=service, source_type="monitor", source_id=uuid.uuid4(), opened_at=now,
                            last_alert_at=now, alert_count=1)
        s.add(incident)
    return incident


async def page_user(app, db, incident: Incident, user_id) -> tuple[uuid.UUID, str]:
    """A page of `incident` to the user, delivered by the app's own delivery job (enqueued at commit), and
    the page's status afterwards."""
    async with db.session(tenant_id=incident.tenant_id) as s:
        row = await s.get(Incident, incident.id)
        page_id = await paging.create_page(s, row, event="incident.triggered", target_type="user",
                                           target_id=uuid.UUID(str(user_id)), step_index=0, cycle=0, now=utcnow())
    assert page_id is not None
    await deliver(app)
    async with db.session(tenant_id=incident.tenant_id) as s:
        page = (await s.execute(select(Page).where(Page.id == page_id))).scalar_one()
    return page_id, page.status


async def attempts(db, tenant_id, dedup_key: str) -> list[NotificationAttempt]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        return list((await s.execute(select(NotificationAttempt).where(
            NotificationAttempt.dedup_key == dedup_key).order_by(NotificationAttempt.target))).scalars().all())


async def device_rows(db, tenant_id) -> list[PushToken]:
    async with db.session(tenant_id=uuid.UUID(str(tenant_id))) as s:
        return list((await s.execute(select(PushToken))).scalars().all())
