"""Status-page use cases: pages, groups, components, public incidents and their updates, subscribers.

Every change is audited in the caller's transaction and drops the page's cached snapshot once the
transaction has committed (snapshot.invalidate); notifying subscribers is a job enqueued after commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth.passwords import hash_password, verify_password
from xinex.identity.principal import Principal
from xinex.kit.db import Database, after_commit
from xinex.kit.errors import AppError
from xinex.kit.jobs import enqueue
from xinex.kit.types import utcnow
from xinex.models.status_pages import (
    StatusPage,
    StatusPageComponent,
    StatusPageGroup,
    StatusPageIncident,
    StatusPageIncidentUpdate,
    StatusPageSubscriber,
)
from xinex.settings import get_settings
from xinex.status_pages import domains, jobs, repository, snapshot, tokens
from xinex.status_pages.schemas import (
    AffectedIn,
    ComponentIn,
    ComponentOut,
    GroupIn,
    GroupOut,
    IncidentIn,
    IncidentOut,
    IncidentPatch,
    PageIn,
    PageOut,
    SubscriberOut,
    UpdateIn,
    UpdateOut,
)
from xinex.status_pages.tokens import token_matches
from xinex.tiers.service import ensure_within_limit
from xinex.webhooks.signing import new_secret

CONFIRM_TTL = timedelta(days=7)
RESEND_AFTER = timedelta(minutes=10)  # a second subscribe request re-sends the confirmation at most this often


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit log (the router passes its request and principal through)."""

    request: Any
    principal: Principal


def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


def _record(session: AsyncSession, actor: Actor, action: str, target_type: str, target_id: uuid.UUID,
            **details: Any) -> None:
    audit.record(session, action, request=actor.request, principal=actor.principal, target_type=target_type,
                 target_id=target_id, details=details)


def _refresh_after_commit(session: AsyncSession, db: Database, slug: str) -> None:
    async def drop() -> None:
        snapshot.invalidate(db, slug)
        domains.forget()  # cheap: a page's domain or slug may have changed

    after_commit(session, drop)


# --- pages ------------------------------------------------------------------------------------------


def page_out(page: StatusPage) -> PageOut:
    base = get_settings().public_url.rstrip("/")
    return PageOut(
        id=page.id, name=page.name, slug=page.slug, description=page.description, logo_url=page.logo_url,
        brand_color=page.brand_color, time_zone=page.time_zone, visibility=page.visibility,  # type: ignore[arg-type]
        has_password=page.password_hash is not None, custom_domain=page.custom_domain,
        cname_instruction=(f"CNAME {page.custom_domain} -> {urlsplit(base).hostname}" if page.custom_domain else None),
        show_uptime_bars=page.show_uptime_bars, show_response_times=page.show_response_times,
        show_maintenance=page.show_maintenance, past_incident_days=page.past_incident_days,
        public_url=f"{base}/status/{page.slug}", created_at=page.created_at, updated_at=page.updated_at)


async def _apply_page(session: AsyncSession, page: StatusPage, data: PageIn) -> None:
    if await repository.slug_taken(session, data.slug, except_id=page.id):
        raise AppError("CONFLICT", "This slug is taken", details={"fields": {"slug": "already in use"}})
    if data.custom_domain is not None:
        if data.custom_domain == domains.own_host(get_settings().public_url):
            raise _invalid("custom_domain", "is this server's own address")
        if await repository.domain_taken(session, data.custom_domain, except_id=page.id):
            raise AppError("CONFLICT", "This custom domain is taken",
                           details={"fields": {"custom_domain": "already used by another status page"}})
    if data.visibility == "password":
        if data.password:
            page.password_hash = await hash_password(data.password)
        elif page.password_hash is None:
            raise _invalid("password", "required with visibility password")
    elif data.password:
        raise _invalid("password", "only with visibility password")
    else:
        page.password_hash = None
    for name in ("name", "slug", "description", "logo_url", "brand_color", "time_zone", "visibility",
                 "custom_domain", "show_uptime_bars", "show_response_times", "show_maintenance",
                 "past_incident_days"):
        setattr(page, name, getattr(data, name))
    page.updated_at = utcnow()


async def create_page(session: AsyncSession, db: Database, actor: Actor, data: PageIn) -> StatusPage:
    tenant_id = actor.principal.tenant_id
    assert tenant_id is not None
    await ensure_within_limit(session, tenant_id, "status_pages", repository.count_pages())
    page = StatusPage(tenant_id=tenant_id, name=data.name, slug=data.slug)
    await _apply_page(session, page, data)
    session.add(page)
    await session.flush()
    _record(session, actor, "status_page.created", "status_page", page.id, slug=page.slug, visibility=page.visibility)
    _refresh_after_commit(session, db, page.slug)
    return page


async def update_page(session: AsyncSession, db: Database, actor: Actor, page: StatusPage, data: PageIn) -> None:
    old_slug = page.slug
    await _apply_page(session, page, data)
    await session.flush()
    _record(session, actor, "status_page.updated", "status_page", page.id, slug=page.slug, visibility=page.visibility)
    _refresh_after_commit(session, db, old_slug)
    _refresh_after_commit(session, db, page.slug)


async def delete_page(session: AsyncSession, db: Database, actor: Actor, page: StatusPage) -> None:
    await session.delete(page)
    _record(session, actor, "status_page.deleted", "status_page", page.id, slug=page.slug)
    _refresh_after_commit(session, db, page.slug)


async def page_of(session: AsyncSession, page_id: uuid.UUID | None, field: str = "page_id") -> StatusPage:
    if page_id is None:
        raise _invalid(field, "required")
    page = await session.get(StatusPage, page_id)
    if page is None:
        raise AppError("NOT_FOUND", "status page not found")
    return page


# --- groups -----------------------------------------------------------------------------------------


def group_out(g: StatusPageGroup) -> GroupOut:
    return GroupOut(id=g.id, page_id=g.page_id, name=g.name, position=g.position, created_at=g.created_at,
                    updated_at=g.updated_at)


async def create_group(session: AsyncSession, db: Database, actor: Actor, data: GroupIn) -> StatusPageGroup:
    page = await page_of(session, data.page_id)
    g = StatusPageGroup(page_id=page.id, name=data.name, position=data.position)
    session.add(g)
    await session.flush()
    _record(session, actor, "status_page.group_created", "status_page_group", g.id, page_id=str(page.id), name=g.name)
    _refresh_after_commit(session, db, page.slug)
    return g


async def update_group(session: AsyncSession, db: Database, actor: Actor, g: StatusPageGroup, data: GroupIn) -> None:
    if data.page_id is not None and data.page_id != g.page_id:
        raise _invalid("page_id", "a group stays on its page")
    page = await page_of(session, g.page_id)
    g.name, g.position, g.updated_at = data.name, data.position, utcnow()
    await session.flush()
    _record(session, actor, "status_page.group_updated", "status_page_group", g.id, name=g.name)
    _refresh_after_commit(session, db, page.slug)


async def delete_group(session: AsyncSession, db: Database, actor: Actor, g: StatusPageGroup) -> None:
    page = await page_of(session, g.page_id)
    await session.delete(g)  # its components stay, outside any group (ON DELETE SET NULL)
    _record(session, actor, "status_page.group_deleted", "status_page_group", g.id, name=g.name)
    _refresh_after_commit(session, db, page.slug)


# --- components -------------------------------------------------------------------------------------


async def component_out(session: AsyncSession, c: StatusPageComponent) -> ComponentOut:
    states = await repository.source_states(session, [c])
    source = states.get(c.source_id) if c.source_id else None
    status = snapshot.derive(c, source[0] if source else None, False, None)
    return ComponentOut(id=c.id, page_id=c.page_id, group_id=c.group_id, key=c.key, name=c.name,
                        description=c.description, position=c.position, source_type=c.source_type,  # type: ignore[arg-type]
                        source_id=c.source_id, status_override=c.status_override,  # type: ignore[arg-type]
                        status=status, created_at=c.created_at, updated_at=c.updated_at)  # type: ignore[arg-type]


async def _check_component(session: AsyncSession, page: StatusPage, data: ComponentIn) -> None:
    if data.group_id is not None:
        g = await session.get(StatusPageGroup, data.group_id)
        if g is None or g.page_id != page.id:
            raise _invalid("group_id", "no such group on this page")
    if data.source_type != "manual" and data.source_id is not None:
        if not await repository.source_exists(session, data.source_type, data.source_id):
            raise _invalid("source_id", f"no such {data.source_type.replace('_', ' ')}")


def _apply_component(c: StatusPageComponent, data: ComponentIn) -> None:
    c.group_id, c.name, c.description, c.position = data.group_id, data.name, data.description, data.position
    c.source_type, c.source_id, c.status_override = data.source_type, data.source_id, data.status_override
    c.updated_at = utcnow()


async def create_component(session: AsyncSession, db: Database, actor: Actor, data: ComponentIn) -> StatusPageComponent:
    page = await page_of(session, data.page_id)
    await _check_component(session, page, data)
    c = StatusPageComponent(page_id=page.id, key=tokens.new_key(), name=data.name)
    _apply_component(c, data)
    session.add(c)
    await session.flush()
    _record(session, actor, "status_page.component_created", "status_page_component", c.id, name=c.name,
            source_type=c.source_type)
    _refresh_after_commit(session, db, page.slug)
    return c


async def update_component(session: AsyncSession, db: Database, actor: Actor, c: StatusPageComponent,
                           data: ComponentIn) -> None:
    if data.page_id is not None and data.page_id != c.page_id:
        raise _invalid("page_id", "a component stays on its page")
    page = await page_of(session, c.page_id)
    await _check_component(session, page, data)
    before = c.status_override
    _apply_component(c, data)
    await session.flush()
    _record(session, actor, "status_page.component_updated", "status_page_component", c.id, name=c.name,
            status_override=c.status_override, previous_override=before)
    _refresh_after_commit(session, db, page.slug)


async def delete_component(session: AsyncSession, db: Database, actor: Actor, c: StatusPageComponent) -> None:
    page = await page_of(session, c.page_id)
    await session.delete(c)
    _record(session, actor, "status_page.component_deleted", "status_page_component", c.id, name=c.name)
    _refresh_after_commit(session, db, page.slug)


# --- incidents --------------------------------------------------------------------------------------


async def incident_out(session: AsyncSession, inc: StatusPageIncident) -> IncidentOut:
    updates = (await repository.updates_of(session, [inc.id]))[inc.id]
    return IncidentOut(
        id=inc.id, page_id=inc.page_id, key=inc.key, title=inc.title, status=inc.status,  # type: ignore[arg-type]
        impact=inc.impact, components=[AffectedIn(**a) for a in inc.affected or []],  # type: ignore[arg-type]
        started_at=inc.started_at, resolved_at=inc.resolved_at, linked_incident_id=inc.linked_incident_id,
        updates=[UpdateOut(id=u.id, status=u.status, message=u.body, notify=u.notify, at=u.at)  # type: ignore[arg-type]
                 for u in updates],
        created_at=inc.created_at, updated_at=inc.updated_at)


async def _affected(session: AsyncSession, page: StatusPage, items: list[AffectedIn]) -> list[dict[str, str]]:
    comps, _ = await repository.components(session, page.id)
    known = {c.id for c in comps}
    missing = [str(a.component_id) for a in items if a.component_id not in known]
    if missing:
        raise _invalid("components", f"not components of this page: {', '.join(missing[:5])}")
    return [{"component_id": str(a.component_id), "impact": a.impact} for a in items]


async def _linked(session: AsyncSession, incident_id: uuid.UUID | None) -> uuid.UUID | None:
    if incident_id is None:
        return None
    from xinex.models.incidents import Incident

    if await session.get(Incident, incident_id) is None:
        raise _invalid("linked_incident_id", "no such incident")
    return incident_id


def _add_update(session: AsyncSession, inc: StatusPageIncident, status: str, message: str, notify: bool,
                at: datetime) -> StatusPageIncidentUpdate:
    u = StatusPageIncidentUpdate(incident_id=inc.id, status=status, body=message, notify=notify, at=at)
    session.add(u)
    inc.status = status
    inc.resolved_at = at if status == "resolved" else None
    inc.updated_at = at
    return u


async def create_incident(session: AsyncSession, db: Database, actor: Actor, page: StatusPage,
                          data: IncidentIn) -> StatusPageIncident:
    now = utcnow()
    inc = StatusPageIncident(page_id=page.id, key=tokens.new_key(), title=data.title, status=data.status, impact=data.impact,
                             affected=await _affected(session, page, data.components), started_at=now,
                             linked_incident_id=await _linked(session, data.linked_incident_id))
    session.add(inc)
    await session.flush()
    u = _add_update(session, inc, data.status, data.message, data.notify, now)
    await session.flush()
    _record(session, actor, "status_page.incident_created", "status_page_incident", inc.id, title=inc.title,
            status=inc.status, notify=data.notify)
    if data.notify:
        enqueue(session, jobs.notify_subscribers, update_id=str(u.id), tenant_id=str(page.tenant_id))
    _refresh_after_commit(session, db, page.slug)
    return inc


async def patch_incident(session: AsyncSession, db: Database, actor: Actor, inc: StatusPageIncident,
                         data: IncidentPatch) -> None:
    page = await page_of(session, inc.page_id)
    if data.title is not None:
        inc.title = data.title
    if data.impact is not None:
        inc.impact = data.impact
    if data.components is not None:
        inc.affected = await _affected(session, page, data.components)
    if "linked_incident_id" in data.model_fields_set:
        inc.linked_incident_id = await _linked(session, data.linked_incident_id)
    inc.updated_at = utcnow()
    await session.flush()
    _record(session, actor, "status_page.incident_updated", "status_page_incident", inc.id, title=inc.title)
    _refresh_after_commit(session, db, page.slug)


async def add_update(session: AsyncSession, db: Database, actor: Actor, inc: StatusPageIncident,
                     data: UpdateIn) -> StatusPageIncidentUpdate:
    page = await page_of(session, inc.page_id)
    u = _add_update(session, inc, data.status, data.message, data.notify, utcnow())
    await session.flush()
    _record(session, actor, "status_page.incident_update_posted", "status_page_incident", inc.id,
            status=data.status, notify=data.notify)
    if data.notify:
        enqueue(session, jobs.notify_subscribers, update_id=str(u.id), tenant_id=str(page.tenant_id))
    _refresh_after_commit(session, db, page.slug)
    return u


async def delete_incident(session: AsyncSession, db: Database, actor: Actor, inc: StatusPageIncident) -> None:
    page = await page_of(session, inc.page_id)
    await session.delete(inc)
    _record(session, actor, "status_page.incident_deleted", "status_page_incident", inc.id, title=inc.title)
    _refresh_after_commit(session, db, page.slug)


# --- subscribers ------------------------------------------------------------------------------------


def subscriber_out(s: StatusPageSubscriber) -> SubscriberOut:
    return SubscriberOut(id=s.id, kind=s.kind, target=s.target, confirmed=s.confirmed_at is not None,  # type: ignore[arg-type]
                         disabled_reason=s.disabled_reason, created_at=s.created_at)


async def subscriber_for_token(session: AsyncSession, page: StatusPage, purpose: str,
                               token: str) -> StatusPageSubscriber:
    key, _, _mac = token.partition(".")
    sub = await repository.subscriber_by_key(session, page.id, key)
    if sub is None or not token_matches(purpose, sub, token):
        raise AppError("TOKEN_INVALID", "This link is invalid or was already used")
    if purpose == "confirm" and sub.confirmed_at is None and (
            sub.confirm_sent_at is None or utcnow() - sub.confirm_sent_at > CONFIRM_TTL):
        raise AppError("TOKEN_INVALID", "This confirmation link has expired: subscribe again")
    return sub


async def subscribe(session: AsyncSession, page: StatusPage, *, email: str | None, webhook_url: str | None) -> None:
    """Record the request and send a confirmation; the caller answers the same whatever happened here."""
    kind, target = ("email", email.strip().lower()) if email else ("webhook", (webhook_url or "").strip())
    now = utcnow()
    sub = await repository.subscriber_by_target(session, page.id, kind, target)
    if sub is None:
        sub = StatusPageSubscriber(page_id=page.id, key=tokens.new_key(16), kind=kind, target=target,
                                   secret=new_secret() if kind == "webhook" else None)
        session.add(sub)
    elif sub.disabled_at is not None:
        # Its receiver once answered 410 Gone; asked again, it starts over with a new confirmation.
        sub.confirmed_at = sub.disabled_at = sub.disabled_reason = None
    elif sub.confirmed_at is not None:
        return  # already subscribed: nothing to send, and the answer says nothing
    elif sub.confirm_sent_at is not None and now - sub.confirm_sent_at < RESEND_AFTER:
        return
    sub.confirm_sent_at = now
    await session.flush()
    enqueue(session, jobs.send_confirmation, subscriber_id=str(sub.id), tenant_id=str(page.tenant_id),
            token=tokens.link_token("confirm", sub))


async def confirm(session: AsyncSession, db: Database, page: StatusPage, token: str) -> StatusPageSubscriber:
    sub = await subscriber_for_token(session, page, "confirm", token)
    if sub.confirmed_at is None:
        sub.confirmed_at = utcnow()
        audit.record(session, "status_page.subscriber_confirmed", tenant_id=page.tenant_id, actor_type="subscriber",
                     target_type="status_page_subscriber", target_id=sub.id, details={"kind": sub.kind})
    return sub


async def unsubscribe(session: AsyncSession, page: StatusPage, token: str) -> None:
    sub = await subscriber_for_token(session, page, "unsubscribe", token)
    await session.delete(sub)
    audit.record(session, "status_page.subscriber_removed", tenant_id=page.tenant_id, actor_type="subscriber",
                 target_type="status_page_subscriber", target_id=sub.id, details={"kind": sub.kind})


async def delete_subscriber(session: AsyncSession, actor: Actor, sub: StatusPageSubscriber) -> None:
    await session.delete(sub)
    _record(session, actor, "status_page.subscriber_removed", "status_page_subscriber", sub.id, kind=sub.kind)


# --- private pages ----------------------------------------------------------------------------------


async def check_password(password_hash: str | None, password: str) -> bool:
    ok, _ = await verify_password(password_hash, password)
    return ok
