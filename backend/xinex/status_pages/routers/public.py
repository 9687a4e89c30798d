"""The public JSON of status pages (/api/v1/public/status-pages/{slug}…): no authentication, nothing
internal (no tenant, ids, monitor targets), the same cached snapshot the HTML page shows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import PageDep
from xinex.kit.types import NulFreeStr
from xinex.models.status_pages import StatusPage
from xinex.status_pages import repository, service, snapshot
from xinex.status_pages.routers.access import cache_headers, db_of, encoded, limit_public_form, readable
from xinex.status_pages.schemas import (
    SLUG_PATTERN,
    Accepted,
    PublicIncidentPage,
    PublicPage,
    SubscribeIn,
    TokenIn,
)
from xinex.status_pages.tokens import UNLOCK_MAX_AGE, unlock_cookie_name, unlock_cookie_value

router = APIRouter(tags=["status pages (public)"])
SlugPath = Annotated[str, Path(max_length=64, pattern=SLUG_PATTERN)]
ACCEPTED = "If this can be subscribed, a confirmation is on its way."
# Read-only JSON of PUBLIC pages may be read by any site's script (no credentials: `*` forbids them);
# password and members-only pages never get CORS headers.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag"}  # a script may revalidate
PREFLIGHT = {**CORS, "Access-Control-Allow-Methods": "GET, HEAD", "Access-Control-Allow-Headers": "If-None-Match",
             "Access-Control-Max-Age": "600"}


def cors_headers(entry: snapshot.Entry) -> dict[str, str]:
    return dict(CORS) if entry.visibility == "public" else {}


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"password": "a long shared passphrase"}]})

    password: NulFreeStr = Field(min_length=1, max_length=200)


@router.head("/public/status-pages/{slug}", include_in_schema=False)
@router.get("/public/status-pages/{slug}", response_model=PublicPage, responses=error_responses(401, 404, 422))
async def public_page(slug: SlugPath, request: Request) -> Response:
    """A status page as the public sees it: overall status, groups and components with their status and 90
    daily uptime bars (days of the page's time zone; `uptime_pct` null means no data that day, never 100 %),
    response times of monitor components when the page shows them, open incidents with their updates, recent past incidents, maintenance in progress and upcoming. Cached: a status change shows
    within a second; `ETag` + `If-None-Match` answer 304. 401: a password page not unlocked
    (POST …/unlock); 404: no such page, or a members-only page and the caller is not a signed-in member."""
    entry = await readable(request, slug)
    body, encoding = encoded(request, entry.body, entry.gzip_body)
    return Response(body, media_type="application/json",
                    headers={"ETag": entry.etag, **cache_headers(entry), **encoding, **cors_headers(entry)})


@router.head("/public/status-pages/{slug}/incidents", include_in_schema=False)
@router.get("/public/status-pages/{slug}/incidents", response_model=PublicIncidentPage,
            responses=error_responses(401, 404, 422))
async def public_incidents(slug: SlugPath, request: Request, response: Response, params: PageDep) -> dict[str, Any]:
    """All the page's incidents, newest first, with their updates: the paginated history."""
    entry = await readable(request, slug)
    response.headers.update(cors_headers(entry))
    async with db_of(request).session(tenant_id=entry.tenant_id) as session:
        rows, total = await repository.incidents(session, entry.page_id, offset=params.offset, limit=params.per_page)
        updates = await repository.updates_of(session, [i.id for i in rows])
        comps, _ = await repository.components(session, entry.page_id)
    names = {str(c.id): (c.key, c.name) for c in comps}
    return {"items": [snapshot.public_incident(i, updates[i.id], names) for i in rows], "total": total,
            "page": params.page, "per_page": params.per_page,
            "total_pages": -(-total // params.per_page) if total else 0}


@router.options("/public/status-pages/{slug}", include_in_schema=False)
@router.options("/public/status-pages/{slug}/incidents", include_in_schema=False)
async def preflight(slug: SlugPath, request: Request) -> Response:
    """CORS preflight of the read-only JSON: 204 for a public page; 404 (no CORS) for private or unknown."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None or entry.visibility != "public":
        raise AppError("NOT_FOUND", "status page not found")
    return Response(status_code=204, headers=dict(PREFLIGHT))


@router.post("/public/status-pages/{slug}/subscribe", status_code=202, response_model=Accepted,
             responses=error_responses(401, 404, 422, 429))
async def subscribe(slug: SlugPath, data: SubscribeIn, request: Request) -> Accepted:
    """Subscribe an e-mail address or a webhook URL to the page's incident updates. The answer is the same
    whether or not it was subscribed before. E-mail: a confirmation link is mailed (double opt-in), every
    update mail has a one-click unsubscribe link. Webhook: the URL receives a signed `subscription.confirm`
    POST carrying the confirmation link and the signing secret; updates are signed like Xinex's outgoing
    webhooks. 429: too many requests from this address or for this page."""
    entry = await readable(request, slug)
    await limit_public_form(request, slug)
    async with db_of(request).session(tenant_id=entry.tenant_id) as session:
        page = await session.get(StatusPage, entry.page_id)
        if page is None:
            raise AppError("NOT_FOUND", "status page not found")
        session.sync_session.info["xinex.job_queue"] = getattr(request.app.state, "jobs", None)
        await service.subscribe(session, page, email=data.email, webhook_url=data.webhook_url)
    return Accepted(message=ACCEPTED)


@router.post("/public/status-pages/{slug}/subscribe/confirm", response_model=Accepted,
             responses=error_responses(400, 404, 422))
async def confirm(slug: SlugPath, data: TokenIn, request: Request) -> Accepted:
    """Confirm a subscription with the token of its confirmation link. 400 TOKEN_INVALID: unknown, expired
    (7 days) or superseded by a newer confirmation."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        raise AppError("NOT_FOUND", "status page not found")
    async with db_of(request).session(tenant_id=entry.tenant_id) as session:
        page = await repository.get_or_404(session, StatusPage, entry.page_id)
        await service.confirm(session, db_of(request), page, data.token)
    return Accepted(message="Subscribed: incident updates will be sent.")


@router.post("/public/status-pages/{slug}/unsubscribe", response_model=Accepted,
             responses=error_responses(400, 404, 422))
async def unsubscribe(slug: SlugPath, data: TokenIn, request: Request) -> Accepted:
    """Remove a subscription with the token of the unsubscribe link every update carries."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        raise AppError("NOT_FOUND", "status page not found")
    async with db_of(request).session(tenant_id=entry.tenant_id) as session:
        page = await repository.get_or_404(session, StatusPage, entry.page_id)
        await service.unsubscribe(session, page, data.token)
    return Accepted(message="Unsubscribed: nothing more will be sent.")


@router.post("/public/status-pages/{slug}/unlock", status_code=204, responses=error_responses(401, 404, 422, 429))
async def unlock(slug: SlugPath, data: PasswordIn, request: Request) -> Response:
    """Unlock a password-protected page: sets a cookie (30 days, HttpOnly) that the JSON, HTML, feeds, badges
    and events accept until the password changes. 401: wrong password; 404: no such password page."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None or entry.visibility != "password":
        raise AppError("NOT_FOUND", "status page not found")
    await limit_public_form(request, slug)
    if not await service.check_password(entry.password_hash, data.password):
        raise AppError("UNAUTHENTICATED", "Wrong password", details={"password_required": True})
    response = Response(status_code=204)
    set_unlock_cookie(request, response, entry)
    return response


def set_unlock_cookie(request: Request, response: Response, entry: snapshot.Entry) -> None:
    assert entry.password_hash is not None
    response.set_cookie(unlock_cookie_name(entry.slug), unlock_cookie_value(entry.page_id, entry.password_hash),
                        max_age=UNLOCK_MAX_AGE, httponly=True, samesite="lax",
                        secure=request.app.state.settings.cookie_secure, path="/")
