"""The auth domain's queries on API tokens, on the kit base (tenant scoping inherited from the session)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select
from sqlmodel import col

from xinex.identity.principal import Principal
from xinex.kit.errors import not_found
from xinex.kit.repository import Repository
from xinex.models.identity import ApiToken
from xinex.models.tenant import Role


class ApiTokenRepository(Repository[ApiToken]):
    model = ApiToken
    label = "API token"

    def visible_to(self, principal: Principal) -> Select[Any]:
        """The tenant's tokens the caller may see: their own, or every member's for an admin."""
        stmt: Select[Any] = self.select()
        if not principal.has_role(Role.admin):
            stmt = stmt.where(col(ApiToken.user_id) == principal.user_id)
        return stmt

    def newest_first(self, principal: Principal) -> Select[Any]:
        return self.visible_to(principal).order_by(col(ApiToken.created_at).desc(), col(ApiToken.id))

    async def visible_or_404(self, principal: Principal, token_id: uuid.UUID) -> ApiToken:
        stmt = self.visible_to(principal).where(col(ApiToken.id) == token_id)
        token: ApiToken | None = (await self.session.scalars(stmt)).one_or_none()
        if token is None:
            raise not_found(self.label)
        return token
