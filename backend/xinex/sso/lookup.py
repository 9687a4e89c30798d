"""Finding the tenant (and its usable SAML config) behind the public SSO endpoints.

Every miss - unknown slug, no config, disabled config, plan without SSO - answers the same 404,
so the endpoints do not reveal which tenants exist or use SSO.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.kit.errors import AppError
from xinex.kit.tenancy import bind_tenant, system_scope
from xinex.models.sso import SamlConfig
from xinex.models.tenant import Tenant
from xinex.tiers.catalog import feature_enabled


def sso_not_found() -> AppError:
    return AppError("NOT_FOUND", "No single sign-on is configured for this organization")


def _usable(tenant: Tenant | None, config: SamlConfig | None) -> bool:
    return tenant is not None and config is not None and config.enabled and feature_enabled(tenant.tier, "sso")


async def sp_for_slug(session: AsyncSession, slug: str) -> tuple[Tenant, SamlConfig]:
    """Binds the session to the tenant it returns."""
    if "\x00" in slug:  # no slug holds NUL, and PostgreSQL refuses to compare with one
        raise sso_not_found()
    tenant = (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant is None:
        raise sso_not_found()
    await bind_tenant(session, tenant.id)
    config = (await session.execute(select(SamlConfig))).scalar_one_or_none()
    if not _usable(tenant, config):
        raise sso_not_found()
    return tenant, config


async def sp_for_email(session: AsyncSession, email: str) -> tuple[Tenant, SamlConfig]:
    """The one tenant whose enabled config lists the address's domain; several or none → 404."""
    domain = email.strip().lower().rpartition("@")[2]
    if not domain:
        raise sso_not_found()
    await system_scope(session, "sso.route_by_email_domain")
    # Few tenants have SSO (enterprise plan): filtering their domain lists here stays portable
    # across PostgreSQL JSONB and SQLite JSON.
    rows = (await session.execute(
        select(Tenant, SamlConfig).join(SamlConfig, SamlConfig.tenant_id == Tenant.id).where(SamlConfig.enabled.is_(True))
    )).all()
    matches = [(t, c) for t, c in rows if domain in (c.allowed_domains or []) and _usable(t, c)]
    if len(matches) != 1:
        raise sso_not_found()
    tenant, config = matches[0]
    await bind_tenant(session, tenant.id)
    return tenant, config
