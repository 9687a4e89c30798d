"""Versioned detail objects: ETag from (id, updated_at); If-Match on PUT → 412 when stale."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request, Response

from xinex.kit.errors import AppError


class Versioned(Protocol):
    """What a versioned object needs: its id and when it last changed (every `Entity` has both)."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def updated_at(self) -> datetime: ...


def version_tag(obj: Versioned) -> str:
    raw = f"{obj.id}:{obj.updated_at.isoformat()}".encode()
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def set_version(response: Response, obj: Versioned) -> None:
    response.headers["ETag"] = version_tag(obj)


def representation_tag(payload: str | bytes) -> str:
    """ETag of a whole representation, for objects whose response is more than one row."""
    raw = payload.encode() if isinstance(payload, str) else payload
    return 'W/"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


def check_if_match(request: Request, obj: Versioned) -> None:
    """Call before changing `obj`; a stale If-Match means someone else changed it first."""
    check_if_match_tag(request, version_tag(obj))


def check_if_match_tag(request: Request, current_tag: str) -> None:
    check_if_match_value(request.headers.get("if-match"), current_tag)


def if_match(request: Request) -> str | None:
    """The If-Match header as sent (a dependency: `IfMatch`), for code that gets no `Request`."""
    return request.headers.get("if-match")


IfMatch = Annotated[str | None, Depends(if_match)]


def check_if_match_value(wanted: str | None, current_tag: str) -> None:
    """412 PRECONDITION_FAILED unless `wanted` (an If-Match value; None or empty: unconditional)
    names `current_tag`, weakly compared, or is `*`."""
    if not wanted:
        return
    current = current_tag.removeprefix("W/")
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    if "*" not in tags and current not in tags:
        raise AppError("PRECONDITION_FAILED", details={"current_etag": current_tag})
