"""Who may read a page on the public surface: anyone (public), whoever unlocked it with its password
(a cookie bound to the current password), or signed-in members of its tenant (anyone else: 404, as if
the page did not exist). Also the per-IP and per-page limits of the public forms."""

from __future__ import annotations

from fastapi import Request

from xinex.identity.credentials import resolve_principal
from xinex.kit.db import Database
from xinex.kit.errors import AppError
from xinex.status_pages import repository, snapshot
from xinex.status_pages.tokens import unlock_cookie_name, unlock_cookie_valid

# A private page's refusal must not be kept by a shared cache nor stored (RFC 9111).
LOCKED_HEADERS = {"Cache-Control": "private, no-store", "Vary": "Cookie"}


class Locked(AppError):
    """A password page read without its cookie."""

    def __init__(self) -> None:
        super().__init__("UNAUTHENTICATED", "This status page needs its password",
                         details={"password_required": True}, headers=dict(LOCKED_HEADERS))


def not_found() -> AppError:
    return AppError("NOT_FOUND", "status page not found")


def db_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def _member(request: Request, db: Database, entry: snapshot.Entry) -> bool:
    try:
        async with db.session() as session:
            principal = await resolve_principal(session, request)
            return await repository.is_member(session, entry.tenant_id, principal.user_id)
    except AppError:
        return False


def unlocked(request: Request, entry: snapshot.Entry) -> bool:
    cookie = request.cookies.get(unlock_cookie_name(entry.slug))
    return bool(cookie and entry.password_hash and unlock_cookie_valid(cookie, entry.page_id, entry.password_hash))


async def readable(request: Request, slug: str) -> snapshot.Entry:
    """The page's snapshot if this caller may read it; else 404 (unknown, or members only) or 401 (password)."""
    entry = await snapshot.get(db_of(request), slug)
    if entry is None:
        raise not_found()
    if entry.visibility == "public":
        return entry
    if entry.visibility == "password":
        if unlocked(request, entry):
            return entry
        raise Locked()
    if await _member(request, db_of(request), entry):
        return entry
    raise not_found()


def cache_headers(entry: snapshot.Entry) -> dict[str, str]:
    """Public pages: shared caches may keep them a second (the server's own copy is at most
    snapshot.CACHE_TTL_S old). Private pages: nobody keeps them."""
    if entry.visibility == "public":
        return {"Cache-Control": "public, max-age=1", "Vary": "Accept-Encoding"}
    return {"Cache-Control": "private, no-store", "Vary": "Cookie, Accept-Encoding"}


async def limit_public_form(request: Request, slug: str) -> None:
    """Per client IP (every page) and per page: 429 with Retry-After past either."""
    settings = request.app.state.settings
    limiter = request.app.state.limiter
    ip = getattr(request.state, "client_ip", None) or (request.client.host if request.client else "unknown")
    await limiter.enforce(settings.rate_limit_status_subscribe_ip, "status-page-form-ip", ip)
    await limiter.enforce(settings.rate_limit_status_subscribe_page, "status-page-form-page", slug)


def accepts_gzip(request: Request) -> bool:
    return "gzip" in request.headers.get("accept-encoding", "")


def encoded(request: Request, body: bytes, gzipped: bytes | None) -> tuple[bytes, dict[str, str]]:
    """The body, compressed when the client takes gzip (the compressed copy is made once per snapshot)."""
    if gzipped is not None and accepts_gzip(request):
        return gzipped, {"Content-Encoding": "gzip"}
    return body, {}
