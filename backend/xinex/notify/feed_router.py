"""The caller's own notification preferences and in-app feed (per user and tenant)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from xinex.audit import service as audit
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import error_responses
from xinex.kit.etag import check_if_match, set_version
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.models.notify import FeedItem, NotificationPref
from xinex.models.tenant import Role
from xinex.notify import feed, prefs
from xinex.notify.schemas import FeedItemOut, FeedPage, PrefsIn, PrefsOut, ReadAllOut, UnreadCount

router = APIRouter(tags=["notifications"])
# Your own feed and preferences: any member, read scope (marking read is not a tenant mutation).
Reader = Annotated[Principal, Depends(Authorize("notifications", write=False))]
Writer = Annotated[Principal, Depends(Authorize("notifications", write=True, min_role=Role.viewer))]


def _prefs_out(pref: NotificationPref) -> PrefsOut:
    return PrefsOut(id=pref.id, tenant_id=pref.tenant_id, user_id=pref.user_id, rules=prefs.effective_rules(pref),
                    quiet_hours=pref.quiet_hours, created_at=pref.created_at, updated_at=pref.updated_at)


async def _own_pref(session, principal: Principal) -> NotificationPref:
    pref = await prefs.get_pref(session, principal.tenant_id, principal.user_id)
    if pref is None:
        pref = NotificationPref(tenant_id=principal.tenant_id, user_id=principal.user_id, rules={})
        session.add(pref)
        await session.flush()
    return pref


@router.get("/users/me/notification-prefs", response_model=PrefsOut, responses=error_responses(401, 403))
async def read_prefs(response: Response, principal: Reader, session: SessionDep):
    """Your own notification preferences in this tenant: which media (email, push, feed) page you per severity, and
    quiet hours. Defaults apply until you change them."""
    pref = await _own_pref(session, principal)
    set_version(response, pref)
    return _prefs_out(pref)


@router.put("/users/me/notification-prefs", response_model=PrefsOut, responses=error_responses(401, 403, 412, 422))
async def update_prefs(data: PrefsIn, request: Request, response: Response, principal: Writer, session: SessionDep):
    """Set your notification preferences: severities you give replace their media (the others keep the defaults);
    quiet hours (in their own time zone)
    suppress all but critical pages to you. If-Match guards against lost updates (412)."""
    pref = await _own_pref(session, principal)
    check_if_match(request, pref)
    pref.rules = dict(data.rules)
    pref.quiet_hours = data.quiet_hours.model_dump() if data.quiet_hours else None
    await session.flush()
    await session.refresh(pref)
    audit.record(session, "notification_prefs.updated", request=request, principal=principal,
                 target_type="notification_prefs", target_id=pref.id,
                 details={"severities": sorted(data.rules), "quiet_hours": data.quiet_hours is not None})
    set_version(response, pref)
    return _prefs_out(pref)


def _item_out(item: FeedItem) -> FeedItemOut:
    return FeedItemOut(id=item.id, tenant_id=item.tenant_id, user_id=item.user_id, event=item.event, title=item.title,
                       body=item.body, severity=item.severity, incident_id=item.incident_id, url=item.url,
                       read=item.read_at is not None, read_at=item.read_at, created_at=item.created_at,
                       updated_at=item.updated_at)


@router.get("/notifications/feed", response_model=FeedPage, responses=error_responses(401, 403, 422))
async def list_feed(principal: Reader, session: SessionDep, params: PageDep, unread: bool = False):
    """Your in-app notification feed, newest first (unread=true for unread only), with the unread count."""
    items, total = await paginate(session, feed.list_stmt(principal.user_id, unread_only=unread), params)
    page = Page.of([_item_out(i) for i in items], total, params)
    return FeedPage(**page.model_dump(), unread_count=await feed.unread_count(session, principal.user_id))


@router.get("/notifications/feed/unread-count", response_model=UnreadCount, responses=error_responses(401, 403))
async def unread_count(principal: Reader, session: SessionDep):
    """How many feed items you have not read (for a badge)."""
    return UnreadCount(unread_count=await feed.unread_count(session, principal.user_id))


@router.post("/notifications/feed/read-all", response_model=ReadAllOut, responses=error_responses(401, 403))
async def read_all(principal: Reader, session: SessionDep):
    """Mark all your feed items read; answers how many were marked. Idempotent."""
    marked = await feed.mark_all_read(session, principal.user_id)
    return ReadAllOut(marked=marked, unread_count=await feed.unread_count(session, principal.user_id))


@router.post("/notifications/feed/{item_id}/read", response_model=FeedItemOut,
             responses=error_responses(401, 403, 404, 422))
async def read_one(item_id: uuid.UUID, principal: Reader, session: SessionDep):
    """Mark one feed item read. Idempotent. 404: not an item of yours."""
    item = await feed.mark_read(session, principal.user_id, item_id)
    await session.refresh(item)
    return _item_out(item)
