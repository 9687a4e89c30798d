"""The public pages at /status/{slug}: the HTML page, its live events (SSE), Atom/RSS feeds, SVG badges,
and the forms behind subscription links (confirm, one-click unsubscribe) and password pages."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from pydantic import ValidationError

from xinex.kit.errors import AppError
from xinex.models.status_pages import StatusPage
from xinex.status_pages import render, service, snapshot
from xinex.status_pages.domains import STATE_KEY
from xinex.status_pages.routers.access import (
    LOCKED_HEADERS,
    Locked,
    cache_headers,
    db_of,
    encoded,
    limit_public_form,
    readable,
)
from xinex.status_pages.routers.public import set_unlock_cookie
from xinex.status_pages.schemas import SLUG_PATTERN, SubscribeIn

router = APIRouter(tags=["status pages (public)"])
SlugPath = Annotated[str, Path(max_length=64, pattern=SLUG_PATTERN)]
KeyPath = Annotated[str, Path(max_length=16, pattern=r"^[A-Za-z0-9]+$")]
TokenQuery = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]
STREAM_MAX_S = 900.0  # an event stream ends after this; EventSource reconnects by itself
KEEPALIVE_S = 15.0
HTML_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
                "script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
SVG = "image/svg+xml"


def _base(request: Request) -> str:
    return _urls(request, "")[0]


def _urls(request: Request, slug: str, *, absolute: bool = False) -> tuple[str, str]:
    """(the site's base URL, the page's URL) as this reader reached it: the page's custom domain serves it at
    its root — links relative to it (the operator's proxy may speak plain HTTP to us behind HTTPS), absolute
    only where a format needs them (feeds) —, every other host at /status/{slug} of XINEX_PUBLIC_URL."""
    host = getattr(request.state, STATE_KEY, None)
    if host:
        base = f"{request.url.scheme}://{host}" if absolute else ""
        return base, base
    base = str(request.app.state.settings.public_url).rstrip("/")
    return base, f"{base}/status/{slug}"


def _page_path(request: Request, slug: str) -> str:
    return "/" if getattr(request.state, STATE_KEY, None) else f"/status/{slug}"


def _html(body: str, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status_code, headers={**HTML_HEADERS, **(headers or {})})


def _not_found_html() -> HTMLResponse:
    return _html(render.notice("Not found", "There is no status page at this address."), 404,
                 {"Cache-Control": "no-store"})


def _locked_html(slug: str, note: str | None = None, status_code: int = 401) -> HTMLResponse:
    return _html(render.notice("Password required", "This status page is private. Enter its password to read it.",
                               form={"action": f"/status/{slug}/unlock", "password": True, "button": "Open"},
                               status_code_note=note), status_code, LOCKED_HEADERS)


async def _entry_or_page(request: Request, slug: str) -> snapshot.Entry | HTMLResponse:
    try:
        return await readable(request, slug)
    except Locked:
        return _locked_html(slug)
    except AppError as exc:
        if exc.code == "NOT_FOUND":
            return _not_found_html()
        raise


@router.head("/status/{slug}", include_in_schema=False)
@router.get("/status/{slug}", response_class=HTMLResponse, responses={401: {"description": "password page"},
                                                                       404: {"description": "no such page"}})
async def status_page(slug: SlugPath, request: Request) -> Response:
    """The status page in HTML, rendered on the server: readable without JavaScript (a few lines of it reload
    the page when its event stream reports a change)."""
    found = await _entry_or_page(request, slug)
    if isinstance(found, HTMLResponse):
        return found
    base, url = _urls(request, slug)
    rendered = found.html.get(url)
    if rendered is None:
        html = render.page(found.data, base=base, page_url=url).encode()
        found.html[url] = rendered = (html, gzip.compress(html, compresslevel=1, mtime=0))
    body, encoding = encoded(request, *rendered)
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={**HTML_HEADERS, "ETag": found.html_etag, **cache_headers(found), **encoding})


@router.post("/status/{slug}/unlock", response_class=HTMLResponse, status_code=303,
             responses={401: {"description": "wrong password"}, 404: {"description": "no such page"}})
async def unlock_form(slug: SlugPath, request: Request, password: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    """The password form of a private page: right password, back to the page with its cookie; wrong, 401."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None or entry.visibility != "password":
        return _not_found_html()
    await limit_public_form(request, slug)
    if not await service.check_password(entry.password_hash, password):
        return _locked_html(slug, "Wrong password.")
    response = RedirectResponse(_page_path(request, slug), status_code=303)
    set_unlock_cookie(request, response, entry)
    return response


@router.post("/status/{slug}/subscribe", response_class=HTMLResponse,
             responses={404: {"description": "no such page"}, 422: {"description": "not an e-mail address"},
                        429: {"description": "too many requests"}})
async def subscribe_form(slug: SlugPath, request: Request, email: Annotated[str, Form(min_length=1, max_length=320)]) -> Response:
    """The page's subscribe form: the same answer whether or not the address was subscribed before."""
    found = await _entry_or_page(request, slug)
    if isinstance(found, HTMLResponse):
        return found
    try:
        data = SubscribeIn(email=email)
    except ValidationError:
        return _html(render.page(found.data, base=_base(request), page_url=_urls(request, slug)[1], message="That is not an e-mail address."), 422,
                     {"Cache-Control": "no-store"})
    await limit_public_form(request, slug)
    async with db_of(request).session(tenant_id=found.tenant_id) as session:
        page = await session.get(StatusPage, found.page_id)
        if page is None:
            return _not_found_html()
        session.sync_session.info["xinex.job_queue"] = getattr(request.app.state, "jobs", None)
        await service.subscribe(session, page, email=data.email, webhook_url=None)
    return _html(render.page(found.data, base=_base(request), page_url=_urls(request, slug)[1], subscribe=False,
                             message="Thanks. If this address can be subscribed, a confirmation mail is on its way: "
                                     "open its link to start receiving updates."), 200, {"Cache-Control": "no-store"})


async def _link_page(request: Request, slug: str) -> StatusPage | None:
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        return None
    async with db_of(request).session(tenant_id=entry.tenant_id) as session:
        return await session.get(StatusPage, entry.page_id)


@router.head("/status/{slug}/confirm", include_in_schema=False)
@router.get("/status/{slug}/confirm", response_class=HTMLResponse, responses={404: {"description": "no such page"}})
async def confirm_page(slug: SlugPath, token: TokenQuery, request: Request) -> Response:
    """The confirmation link of a subscription mail: a button, so that a mail scanner following links does not
    confirm on the reader's behalf."""
    page = await _link_page(request, slug)
    if page is None:
        return _not_found_html()
    return _html(render.notice(f"Subscribe to {page.name}", "Confirm that you want incident updates of this page.",
                               brand_color=page.brand_color,
                               form={"action": f"/status/{slug}/confirm", "hidden": {"token": token},
                                     "button": "Confirm subscription"}), headers={"Cache-Control": "no-store"})


@router.post("/status/{slug}/confirm", response_class=HTMLResponse,
             responses={400: {"description": "invalid or expired link"}, 404: {"description": "no such page"}})
async def confirm_submit(slug: SlugPath, request: Request, token: Annotated[str, Form(min_length=1, max_length=200)]) -> Response:
    """Confirm a subscription (the button of the confirmation page)."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        return _not_found_html()
    try:
        async with db_of(request).session(tenant_id=entry.tenant_id) as session:
            page = await session.get(StatusPage, entry.page_id)
            if page is None:
                return _not_found_html()
            await service.confirm(session, db_of(request), page, token)
            name, color = page.name, page.brand_color
    except AppError as exc:
        if exc.code != "TOKEN_INVALID":
            raise
        return _html(render.notice("Link not valid", exc.message), 400, {"Cache-Control": "no-store"})
    return _html(render.notice("Subscribed", f"You will receive incident updates of {name}. Every mail has a link "
                               "to unsubscribe.", brand_color=color), headers={"Cache-Control": "no-store"})


@router.head("/status/{slug}/unsubscribe", include_in_schema=False)
@router.get("/status/{slug}/unsubscribe", response_class=HTMLResponse, responses={404: {"description": "no such page"}})
async def unsubscribe_page(slug: SlugPath, token: TokenQuery, request: Request) -> Response:
    """The unsubscribe link of an update mail: a button (one-click mail clients POST directly)."""
    page = await _link_page(request, slug)
    if page is None:
        return _not_found_html()
    return _html(render.notice(f"Unsubscribe from {page.name}", "Stop receiving incident updates of this page.",
                               brand_color=page.brand_color,
                               form={"action": f"/status/{slug}/unsubscribe?token={token}", "button": "Unsubscribe"}),
                 headers={"Cache-Control": "no-store"})


@router.post("/status/{slug}/unsubscribe", response_class=HTMLResponse,
             responses={400: {"description": "invalid link"}, 404: {"description": "no such page"}})
async def unsubscribe_submit(slug: SlugPath, token: TokenQuery, request: Request) -> Response:
    """One-click unsubscribe (RFC 8058: mail clients POST `List-Unsubscribe=One-Click` to the link)."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        return _not_found_html()
    try:
        async with db_of(request).session(tenant_id=entry.tenant_id) as session:
            page = await session.get(StatusPage, entry.page_id)
            if page is None:
                return _not_found_html()
            await service.unsubscribe(session, page, token)
    except AppError as exc:
        if exc.code != "TOKEN_INVALID":
            raise
        return _html(render.notice("Link not valid", "This link is invalid or you were already unsubscribed."), 400,
                     {"Cache-Control": "no-store"})
    return _html(render.notice("Unsubscribed", "You will receive no more incident updates of this page."),
                 headers={"Cache-Control": "no-store"})


def _sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@router.get("/status/{slug}/events", responses={200: {"content": {"text/event-stream": {}},
                                                       "description": "an event stream"},
                                                401: {"description": "password page"},
                                                404: {"description": "no such page"}})
async def events(slug: SlugPath, request: Request) -> StreamingResponse:
    """Server-sent events of the page: `hello` (the overall status) at once, then `component.status_changed`,
    `incident.created`, `incident.updated`, `incident.resolved` and `status.changed` as they happen (within
    about a second). The stream ends after 15 minutes; EventSource reconnects. Access is checked again before
    every event: a stream whose reader may no longer read the page (its password changed, the page became
    members-only, the member left) ends instead of sending it."""
    entry = await readable(request, slug)
    db = db_of(request)

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n" + _sse("hello", entry.data["status"])
        started = time.monotonic()
        watcher = snapshot.watch(db, slug).__aiter__()
        pending: asyncio.Task[tuple[str, object]] | None = None
        try:
            while time.monotonic() - started < STREAM_MAX_S:
                if pending is None:
                    pending = asyncio.ensure_future(watcher.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_S)
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    name, data = pending.result()
                except StopAsyncIteration:
                    return
                pending = None
                try:  # access as of now: a password change or a page made private ends the stream
                    await readable(request, slug)
                except AppError:
                    return
                yield _sse(name, data)
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            with contextlib.suppress(Exception):
                await watcher.aclose()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


Handler = TypeVar("Handler", bound=Callable[..., Any])


def _read_route(path: str, content_type: str, description: str,
                missing: str = "no such page") -> Callable[[Handler], Handler]:
    """Register a public read for GET and HEAD (the same answer without its body; HEAD stays out of the schema)."""
    def register(fn: Handler) -> Handler:
        router.head(path, include_in_schema=False)(fn)
        router.get(path, responses={200: {"content": {content_type: {}}, "description": description},
                                     401: {"description": "password page"}, 404: {"description": missing}})(fn)
        return fn
    return register


FEEDS = {"atom": ("application/atom+xml", "Atom feed", "an Atom feed"),
         "rss": ("application/rss+xml", "RSS 2.0 feed", "an RSS 2.0 feed")}


def _feed_handler(kind: str) -> Any:
    media_type = FEEDS[kind][0]

    async def handler(slug: SlugPath, request: Request) -> Response:
        entry = await readable(request, slug)
        return Response(render.feed(entry.data, page_url=_urls(request, slug, absolute=True)[1], kind=kind),
                        media_type=media_type, headers=cache_headers(entry))

    handler.__name__ = handler.__qualname__ = kind  # the operation ids they always had
    handler.__doc__ = f"The page's incidents (open and recently resolved) as {FEEDS[kind][2]}."
    return handler


for _kind, (_media, _what, _) in FEEDS.items():
    _read_route(f"/status/{{slug}}/feed.{_kind}", _media, _what)(_feed_handler(_kind))


def _component(entry: snapshot.Entry, key: str) -> dict[str, Any]:
    for g in entry.data["groups"]:
        for c in g["components"]:
            if c["key"] == key:
                return dict(c)
    raise AppError("NOT_FOUND", "component not found")


async def _badge(request: Request, slug: str, key: str | None,
                 draw: Callable[[dict[str, Any]], tuple[str, str, str]]) -> Response:
    """A README badge of the page (key None) or of one of its components: draw() gives label, text, colour."""
    entry = await readable(request, slug)
    subject = entry.data if key is None else _component(entry, key)
    return Response(render.badge(*draw(subject)), media_type=SVG, headers=cache_headers(entry))


def _status_words(label: str, status: str) -> tuple[str, str, str]:
    return label, snapshot.LABELS[status].lower(), render.COLORS[status]


def _uptime_words(c: dict[str, Any]) -> tuple[str, str, str]:
    pct = c["uptime_90d_pct"]
    if not isinstance(pct, (int, float)):
        return "uptime 90d", "no data", render.COLORS["no_data"]
    return "uptime 90d", f"{pct:.2f}%", render.COLORS[snapshot.day_status(float(pct))]


@_read_route("/status/{slug}/badge.svg", SVG, "SVG badge")
async def page_badge(slug: SlugPath, request: Request) -> Response:
    """The page's overall status as a README badge."""
    return await _badge(request, slug, None, lambda d: _status_words("status", d["status"]["status"]))


@_read_route("/status/{slug}/components/{key}/badge.svg", SVG, "SVG badge", "no such component")
async def component_badge(slug: SlugPath, key: KeyPath, request: Request) -> Response:
    """One component's current status as a README badge (its key is in the public JSON)."""
    return await _badge(request, slug, key, lambda c: _status_words(str(c["name"]), str(c["status"])))


@_read_route("/status/{slug}/components/{key}/uptime.svg", SVG, "SVG badge", "no such component")
async def uptime_badge(slug: SlugPath, key: KeyPath, request: Request) -> Response:
    """One component's uptime over the last 90 days as a README badge ("no data" when nothing is known)."""
    return await _badge(request, slug, key, _uptime_words)
