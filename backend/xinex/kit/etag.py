"""Versioned detail objects: ETag from (id, updated_at); If-Match on PUT → 412 when stale."""

from __future__ import annotations

import hashlib

from fastapi import Request, Response

from xinex.kit.errors import AppError


def version_tag(obj) -> str:
    raw = f"{obj.id}:{obj.updated_at.isoformat()}".encode()
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def set_version(response: Response, obj) -> None:
    response.headers["ETag"] = version_tag(obj)


def representation_tag(payload: str | bytes) -> str:
    """ETag of a whole representation, for objects whose response is more than one row."""
    raw = payload.encode() if isinstance(payload, str) else payload
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def check_if_match(request: Request, obj) -> None:
    """Call before changing `obj`; a stale If-Match means someone else changed it first."""
    check_if_match_tag(request, version_tag(obj))


def check_if_match_tag(request: Request, current_tag: str) -> None:
    wanted = request.headers.get("if-match")
    if not wanted:
        return
    current = current_tag.removeprefix("W/")
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    if "*" not in tags and current not in tags:
        raise AppError("PRECONDITION_FAILED", details={"current_etag": current_tag})
