"""The tenant's SAML configuration: read, create/replace, delete, and the enforcement switch."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.audit.context import AuditContext
from xinex.auth.revocation import end_password_sign_ins_of_tenant
from xinex.identity.principal import Principal
from xinex.kit.errors import AppError
from xinex.kit.types import utcnow
from xinex.models.sso import SamlConfig
from xinex.models.tenant import Tenant
from xinex.sso.certs import parse_certificate
from xinex.sso.repository import SamlConfigRepository
from xinex.sso.saml_settings import saml_settings, sp_urls
from xinex.sso.schemas import SamlConfigIn, SamlConfigOut

FIELDS = ("idp_entity_id", "idp_sso_url", "idp_slo_url", "idp_x509_cert", "default_role", "allowed_domains",
          "enabled")


async def tenant_by_id(session: AsyncSession, tenant_id: uuid.UUID) -> Tenant:
    return await SamlConfigRepository(session).tenant(tenant_id)


async def current_config(session: AsyncSession) -> SamlConfig | None:
    """The bound tenant's config (the tenancy layer adds the tenant criterion)."""
    return await SamlConfigRepository(session).current()


def config_out(config: SamlConfig, tenant: Tenant) -> SamlConfigOut:
    cert = parse_certificate(config.idp_x509_cert)
    urls = sp_urls(tenant.slug)
    return SamlConfigOut(
        id=config.id, tenant_id=config.tenant_id, created_at=config.created_at, updated_at=config.updated_at,
        idp_entity_id=config.idp_entity_id, idp_sso_url=config.idp_sso_url, idp_slo_url=config.idp_slo_url,
        idp_x509_cert=config.idp_x509_cert, idp_cert_fingerprint_sha256=config.idp_cert_fingerprint,
        idp_cert_not_after=cert.not_after, idp_cert_subject=cert.subject, default_role=config.default_role,
        allowed_domains=list(config.allowed_domains), enabled=config.enabled, enforce=tenant.sso_enforced,
        sp_entity_id=urls.entity_id, sp_acs_url=urls.acs_url, sp_metadata_url=urls.metadata_url,
        login_url=urls.login_url,
    )


def _invalid(field: str, message: str) -> AppError:
    return AppError("VALIDATION_FAILED", "The request did not validate", details={"fields": {field: message}})


def _check_working(config: SamlConfig, tenant: Tenant, enforce: bool) -> None:
    """Refuse a config python3-saml would not run with; enforcement needs one that can sign people in."""
    try:
        saml_settings(config, tenant.slug)
    except Exception as exc:  # OneLogin_Saml2_Error lists what it disliked; keep it short
        raise _invalid("idp_sso_url", f"not usable as a SAML IdP configuration: {str(exc)[:200]}") from exc
    if enforce:
        if not config.enabled:
            raise _invalid("enforce", "enforcing SSO needs an enabled configuration")
        if parse_certificate(config.idp_x509_cert).not_after <= utcnow():
            raise _invalid("enforce", "the IdP certificate has expired; members could not sign in")


async def put_config(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, data: SamlConfigIn,
                     if_match: str | None) -> tuple[SamlConfig, bool]:
    """Create the config, or replace it through `update_checked` (If-Match: 412 before anything changes)."""
    assert principal.tenant_id is not None  # Authorize: an active tenant
    repo = SamlConfigRepository(session)
    tenant = await repo.tenant(principal.tenant_id)
    existing = await repo.current()
    was_enforced = tenant.sso_enforced
    ended: dict[str, int] = {}

    async def apply(config: SamlConfig) -> None:
        nonlocal ended
        for f in FIELDS:
            setattr(config, f, getattr(data, f))
        config.idp_cert_fingerprint = parse_certificate(config.idp_x509_cert).fingerprint_sha256
        _check_working(config, tenant, data.enforce)
        if config not in session:
            session.add(config)
        tenant.sso_enforced = data.enforce
        config.updated_at = utcnow()
        await session.flush()
        if data.enforce and not was_enforced:
            # What members could not obtain any more ends now, not at its natural expiry.
            ended = (await end_password_sign_ins_of_tenant(session, tenant.id, "sso_enforced")).summary()

    def record(config: SamlConfig, created: bool, changed: list[str]) -> None:
        audit.record(session, "sso.config_updated", context=audit_ctx, principal=principal, target_type="saml_config",
                     target_id=config.id, details={
                         "created": created, "changed": changed, "enabled": config.enabled,
                         "enforce": data.enforce, "enforce_changed": was_enforced != data.enforce,
                         "idp_entity_id": config.idp_entity_id,
                         "idp_cert_fingerprint_sha256": config.idp_cert_fingerprint, **ended,
                     })

    if existing is None:
        config = SamlConfig(tenant_id=principal.tenant_id, idp_cert_fingerprint="",
                            **data.model_dump(include=set(FIELDS)))
        await apply(config)
        record(config, True, sorted(FIELDS))
        return config, True
    before = {f: getattr(existing, f) for f in FIELDS}
    config = await repo.update_checked(
        existing, if_match, apply,
        audit=lambda c: record(c, False, sorted(f for f in FIELDS if before[f] != getattr(c, f))))
    return config, False


async def delete_config(session: AsyncSession, audit_ctx: AuditContext, principal: Principal, if_match: str | None) -> None:
    """Delete the config through `delete_checked` (404 when none, If-Match: 412); enforcement goes with it."""
    assert principal.tenant_id is not None  # Authorize: an active tenant
    repo = SamlConfigRepository(session)
    config = await repo.current()
    if config is None:
        raise AppError("NOT_FOUND", "No SAML configuration yet")
    tenant = await repo.tenant(principal.tenant_id)
    was_enforced = tenant.sso_enforced

    def deleted(config: SamlConfig) -> None:
        # Without a config nobody could sign in through SSO, so enforcement goes with it.
        tenant.sso_enforced = False
        audit.record(session, "sso.config_deleted", context=audit_ctx, principal=principal, target_type="saml_config",
                     target_id=config.id, details={"idp_entity_id": config.idp_entity_id,
                                                   "enforce_was": was_enforced})

    await repo.delete_checked(config, if_match, audit=deleted)
