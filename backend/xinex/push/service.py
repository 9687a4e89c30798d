"""Use cases of /push-tokens: list, register (idempotent; a token moves to whoever registers it last),
unregister; and what the sender needs: a user's live devices, forgetting a dead token."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.identity.principal import Principal
from xinex.kit.errors import not_found
from xinex.kit.pagination import Page, PageParams
from xinex.kit.types import utcnow
from xinex.models.push import PushToken
from xinex.push.repository import PushTokenRepository
from xinex.push.schemas import PushTokenIn, PushTokenOut, is_apns_token


def token_out(row: PushToken) -> PushTokenOut:
    return PushTokenOut(id=row.id, token=row.token, platform=row.platform,  # type: ignore[arg-type]
                        apns_environment=row.apns_environment,  # type: ignore[arg-type]
                        critical_alerts=row.critical_alerts, app_version=row.app_version,
                        device_name=row.device_name, locale=row.locale,
                        signed_in_with="mobile" if row.oauth_family_id else "other",
                        created_at=row.created_at, last_registered_at=row.last_registered_at)


def _family_of(principal: Principal) -> uuid.UUID | None:
    # A mobile JWT's credential id is its sign-in (token family): revoking it unregisters the token.
    return principal.credential_id if principal.kind == "jwt" else None


async def tokens_page(session: AsyncSession, principal: Principal, params: PageParams) -> Page[PushTokenOut]:
    repo = PushTokenRepository(session)
    await repo.drop_signed_out(principal.user_id)
    return await repo.page(params, repo.of_user(principal.user_id), out=token_out)


async def register(session: AsyncSession, principal: Principal, data: PushTokenIn, *,
                   audit_ctx: AuditContext | None = None) -> tuple[PushToken, bool]:
    """The token, now the caller's, and whether it was new. The same token again updates it; registered by
    someone else before (the phone changed hands), it moves to the caller."""
    repo = PushTokenRepository(session)
    values = {"user_id": principal.user_id, "platform": data.platform,
              "apns_environment": data.apns_environment if data.platform == "ios" else "production",
              "critical_alerts": data.critical_alerts if data.platform == "ios" else False,
              "app_version": data.app_version, "device_name": data.device_name, "locale": data.locale,
              "oauth_family_id": _family_of(principal), "last_registered_at": utcnow()}
    row = await repo.by_token(data.token)
    created = row is None
    if row is None:
        try:
            async with session.begin_nested():
                row = PushToken(token=data.token, **values)  # type: ignore[arg-type]
                session.add(row)
        except IntegrityError:  # registered at this very moment by another request: update that one
            row = await repo.by_token(data.token)
            created = False
    assert row is not None
    if not created:
        moved_from = row.user_id if row.user_id != principal.user_id else None
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = utcnow()
        if moved_from is not None:
            audit.record(session, "push_token.moved", context=audit_ctx, principal=principal,
                         target_type="push_token", target_id=row.id, details={"from_user_id": str(moved_from)})
    if created:
        audit.record(session, "push_token.registered", context=audit_ctx, principal=principal,
                     target_type="push_token", target_id=row.id, details={"platform": data.platform})
    await session.flush()
    await session.refresh(row)
    return row, created


async def unregister(session: AsyncSession, principal: Principal, token: str, *, audit_ctx: AuditContext | None = None) -> None:
    """404 unless the token is the caller's (another user's token is not theirs to remove)."""
    repo = PushTokenRepository(session)
    row = await repo.by_token(token)
    if row is None and is_apns_token(token):  # stored in lower case (schemas.PushTokenIn)
        row = await repo.by_token(token.lower())
    if row is None or row.user_id != principal.user_id:
        raise not_found("push token")
    await repo.delete_by_id(row.id)
    audit.record(session, "push_token.unregistered", context=audit_ctx, principal=principal,
                 target_type="push_token", target_id=row.id)


async def live_devices(session: AsyncSession, user_id: uuid.UUID) -> list[PushToken]:
    """The user's devices a page goes to: those of a live sign-in (revoked ones are dropped first)."""
    repo = PushTokenRepository(session)
    await repo.drop_signed_out(user_id)
    return list((await session.execute(repo.of_user(user_id))).scalars().all())


async def forget(session: AsyncSession, token_id: uuid.UUID) -> None:
    """The provider said this token is dead (unregistered app, bad token): never send to it again."""
    await PushTokenRepository(session).delete_by_id(token_id)


async def get_device(session: AsyncSession, token_id: uuid.UUID) -> PushToken | None:
    return await PushTokenRepository(session).get(token_id)
