"""ETags for representations built from more than one row (a tenant plus the caller's role, a
membership plus its user), with If-None-Match → 304 and If-Match → 412 on the same tag."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

from xinex.kit.errors import AppError


def tag_for(*parts: object) -> str:
    raw = "|".join(p.isoformat() if hasattr(p, "isoformat") else str(p) for p in parts).encode()
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    wanted = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in wanted or tag.removeprefix("W/") in wanted


def not_modified(request: Request, response: Response, tag: str) -> Response | None:
    """Set the ETag; answer 304 when the client already holds this version."""
    response.headers["ETag"] = tag
    if _matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers={"ETag": tag})
    return None


def require_match(request: Request, tag: str) -> None:
    """Before a PUT: a stale If-Match means someone changed it first."""
    header = request.headers.get("if-match")
    if header and not _matches(header, tag):
        raise AppError("PRECONDITION_FAILED", details={"current_etag": tag})
