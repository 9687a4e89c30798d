"""API tokens `xinex_<64 hex>`: create (shown once), list, rotate with overlap, revoke."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select

from xinex.audit import service as audit
from xinex.identity.deps import TenantPrincipal
from xinex.identity.principal import SCOPE_AREAS, Principal, valid_scope
from xinex.identity.secrets import new_api_token, sha256_hex
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.pagination import Page, PageDep, paginate
from xinex.kit.types import NulFreeStr, UTCDatetime, as_utc, utcnow
from xinex.models.identity import ApiToken
from xinex.models.tenant import Role

router = APIRouter(prefix="/api-tokens", tags=["api-tokens"])

MAX_OVERLAP = timedelta(days=30)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "deploy script", "scopes": ["heartbeats:write", "monitors:read"]},
        {"name": "read-only dashboard", "scopes": ["*:read"], "expires_at": "2027-06-30T00:00:00Z"},
    ]})
    name: NulFreeStr = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["*:write"], min_length=1, max_length=50, json_schema_extra={
        "items": {"type": "string", "enum": [f"{area}:{level}" for area in ("*", *SCOPE_AREAS)
                                             for level in ("read", "write")]}})
    expires_at: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str]) -> list[str]:
        bad = [s for s in scopes if not valid_scope(s)]
        if bad:
            raise ValueError(f"unknown scopes {bad}; use <area>:read|write with area in {['*', *SCOPE_AREAS]}")
        return sorted(set(scopes))

    @field_validator("expires_at")
    @classmethod
    def _in_future(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("expires_at needs a timezone (RFC 3339)")
            value = as_utc(value)  # 9999-12-31T23:59:59-14:00 has no UTC equivalent: 422, not 500
            if value <= utcnow():
                raise ValueError("expires_at must be in the future")
        return value


class TokenRotate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_seconds": 3600}]})
    # How long the old token keeps working, so deployments can roll over.
    overlap_seconds: int = Field(default=3600, ge=0, le=int(MAX_OVERLAP.total_seconds()))


class TokenOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[str]
    expires_at: UTCDatetime | None
    last_used_at: UTCDatetime | None
    revoked_at: UTCDatetime | None
    created_at: UTCDatetime
    updated_at: UTCDatetime


class TokenCreated(TokenOut):
    token: str = Field(description="The secret, shown only in this response")


def _out(api_token: ApiToken, cls=TokenOut, **extra) -> TokenOut:
    return cls(**api_token.model_dump(include=set(TokenOut.model_fields)), **extra)


def _ensure_scopes_within(principal: Principal, scopes: list[str]) -> None:
    """A token can never hold more than the credential that creates it."""
    if principal.scopes is None:
        if not principal.has_role(Role.member) and any(s.endswith(":write") for s in scopes):
            raise AppError("FORBIDDEN", "A viewer can only create read-only tokens")
        return
    for scope in scopes:
        area, _, level = scope.partition(":")
        write = level == "write"
        covered = (
            bool(principal.scopes & ({"*:write"} if write else {"*:write", "*:read"}))
            if area == "*"
            else principal.allows(area, write)
        )
        if not covered:
            raise AppError("FORBIDDEN", f"Cannot grant {scope} beyond this credential's own scopes")


async def _own_token(session, principal: Principal, token_id: uuid.UUID) -> ApiToken:
    stmt = select(ApiToken).where(ApiToken.id == token_id)
    if not principal.has_role(Role.admin):
        stmt = stmt.where(ApiToken.user_id == principal.user_id)
    token = (await session.execute(stmt)).scalar_one_or_none()
    if token is None:
        raise AppError("NOT_FOUND", "API token not found")
    return token


@router.post("", status_code=201, response_model=TokenCreated, responses=error_responses(401, 403, 422))
async def create_token(data: TokenCreate, principal: TenantPrincipal, request: Request, session: SessionDep):
    """Create an API token for scripts and integrations (`Authorization: Bearer xinex_…` or X-API-Key). The token
    is in this answer only; store it. Scopes (<area>:read|write, or *:read / *:write) can never exceed the
    creating credential's (403); a viewer creates read-only tokens. expires_at, if given, must be in the
    future with an offset."""
    if not principal.allows("tokens", write=True):
        raise AppError("FORBIDDEN", "This token lacks the tokens:write scope")
    _ensure_scopes_within(principal, data.scopes)
    raw = new_api_token()
    token = ApiToken(user_id=principal.user_id, name=data.name, token_hash=sha256_hex(raw), prefix=raw[:12],
                     scopes=data.scopes, expires_at=data.expires_at)
    session.add(token)
    await session.flush()
    audit.record(session, "api_token.created", request=request, principal=principal, target_type="api_token",
                 target_id=token.id, details={"name": data.name, "scopes": data.scopes})
    return _out(token, TokenCreated, token=raw)


@router.get("", response_model=Page[TokenOut], responses=error_responses(401, 403))
async def list_tokens(principal: TenantPrincipal, params: PageDep, session: SessionDep):
    """API tokens, newest first, without their secrets: your own, or every member's for an admin."""
    if not principal.allows("tokens", write=False):
        raise AppError("FORBIDDEN", "This token lacks the tokens:read scope")
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id)
    if not principal.has_role(Role.admin):
        stmt = stmt.where(ApiToken.user_id == principal.user_id)
    rows, total = await paginate(session, stmt, params)
    return Page.of([_out(t) for t in rows], total, params)


@router.get("/{token_id}", response_model=TokenOut, responses=error_responses(401, 403, 404))
async def get_token(token_id: uuid.UUID, principal: TenantPrincipal, session: SessionDep):
    """One API token (prefix, scopes, last use, expiry, revocation). 404: not a token you may see."""
    if not principal.allows("tokens", write=False):
        raise AppError("FORBIDDEN", "This token lacks the tokens:read scope")
    return _out(await _own_token(session, principal, token_id))


@router.post("/{token_id}/rotate", status_code=201, response_model=TokenCreated, responses=error_responses(401, 403, 404, 422))
async def rotate_token(token_id: uuid.UUID, data: TokenRotate, principal: TenantPrincipal, request: Request,
                       session: SessionDep):
    """Replace a token: a new secret with the same name and scopes, shown once; the old one keeps working for
    overlap_seconds so deployments can switch. 409: the token is already revoked."""
    if not principal.allows("tokens", write=True):
        raise AppError("FORBIDDEN", "This token lacks the tokens:write scope")
    old = await _own_token(session, principal, token_id)
    now = utcnow()
    if old.revoked_at is not None and old.revoked_at <= now:
        raise AppError("CONFLICT", "A revoked token cannot be rotated")
    raw = new_api_token()
    new = ApiToken(user_id=old.user_id, name=old.name, token_hash=sha256_hex(raw), prefix=raw[:12],
                   scopes=list(old.scopes), expires_at=old.expires_at)
    session.add(new)
    await session.flush()
    old.revoked_at = now + timedelta(seconds=data.overlap_seconds)
    old.rotated_to_id = new.id
    audit.record(session, "api_token.rotated", request=request, principal=principal, target_type="api_token",
                 target_id=old.id, details={"new_token_id": str(new.id), "overlap_seconds": data.overlap_seconds})
    return _out(new, TokenCreated, token=raw)


@router.delete("/{token_id}", status_code=204, responses=error_responses(401, 403, 404))
async def revoke_token(token_id: uuid.UUID, principal: TenantPrincipal, request: Request, session: SessionDep):
    """Revoke a token at once. Idempotent."""
    if not principal.allows("tokens", write=True):
        raise AppError("FORBIDDEN", "This token lacks the tokens:write scope")
    token = await _own_token(session, principal, token_id)
    now = utcnow()
    if token.revoked_at is None or token.revoked_at > now:
        token.revoked_at = now
    audit.record(session, "api_token.revoked", request=request, principal=principal, target_type="api_token",
                 target_id=token.id)
    return Response(status_code=204)
