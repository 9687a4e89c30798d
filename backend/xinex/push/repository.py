"""Queries on push tokens (tenant scoping comes from the session)."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, delete, select
from sqlmodel import col

from xinex.kit.repository import Repository
from xinex.models.oauth_server import OAuthTokenFamily
from xinex.models.push import PushToken


class PushTokenRepository(Repository[PushToken]):
    model = PushToken
    label = "push token"

    def of_user(self, user_id: uuid.UUID) -> Select[PushToken]:
        return (select(PushToken).where(col(PushToken.user_id) == user_id)
                .order_by(col(PushToken.last_registered_at).desc(), col(PushToken.id)))

    async def by_token(self, token: str) -> PushToken | None:
        return (await self.session.execute(select(PushToken).where(col(PushToken.token) == token))).scalar_one_or_none()

    async def drop_signed_out(self, user_id: uuid.UUID) -> int:
        """Unregister the user's tokens whose mobile sign-in was revoked (sign-out, reuse, removal from the
        tenant — every way a token family ends), so neither the list nor a page reaches them."""
        revoked = select(col(OAuthTokenFamily.id)).where(col(OAuthTokenFamily.revoked_at).is_not(None),
                                                         col(OAuthTokenFamily.user_id) == user_id)
        result = await self.session.execute(delete(PushToken).where(
            col(PushToken.user_id) == user_id, col(PushToken.oauth_family_id).in_(revoked))
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def drop_family(self, family_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(PushToken).where(col(PushToken.oauth_family_id) == family_id)
                                            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete_by_id(self, token_id: uuid.UUID) -> None:
        await self.session.execute(delete(PushToken).where(col(PushToken.id) == token_id)
                                   .execution_options(synchronize_session=False))
