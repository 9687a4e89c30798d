"""SSO endpoints: the admin config API, SP metadata, SP-initiated login and the ACS."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from xinex.audit.context import AuditCtx
from xinex.identity.deps import Authorize
from xinex.identity.principal import Principal
from xinex.kit.db import SessionDep
from xinex.kit.errors import AppError, error_responses
from xinex.kit.etag import IfMatch, set_version
from xinex.models.tenant import Role
from xinex.sso import service, signin
from xinex.sso.lookup import sp_for_email, sp_for_slug, sso_not_found
from xinex.sso.saml_settings import sp_metadata_xml
from xinex.sso.schemas import SamlConfigIn, SamlConfigOut
from xinex.sso.selftest import require_saml
from xinex.tiers.service import ensure_feature

router = APIRouter(prefix="/sso", tags=["sso"])

Admin = Annotated[Principal, Depends(Authorize("tenant", min_role=Role.admin))]
# Sign-in, metadata and (re)configuring need working XML signatures; reading or deleting a config does not.
SamlWorks = Depends(require_saml)


@router.get("/config", response_model=SamlConfigOut, responses=error_responses(401, 403, 404))
async def get_config(principal: Admin, response: Response, session: SessionDep) -> SamlConfigOut:
    """The tenant's SAML single sign-on configuration (IdP entity id, SSO URL, certificate, enforcement) and the SP
    values to give the IdP. Admins only; the plan must include SSO (403). 404: none configured yet."""
    assert principal.tenant_id is not None  # Authorize("tenant"): an active tenant
    await ensure_feature(session, principal.tenant_id, "sso")
    config = await service.current_config(session)
    if config is None:
        raise AppError("NOT_FOUND", "No SAML configuration yet")
    set_version(response, config)
    return service.config_out(config, await service.tenant_by_id(session, principal.tenant_id))


@router.put("/config", response_model=SamlConfigOut, dependencies=[SamlWorks], responses={
    201: {"model": SamlConfigOut, "description": "Created"}, **error_responses(401, 403, 412, 422)})
async def put_config(data: SamlConfigIn, principal: Admin, audit_ctx: AuditCtx, response: Response,
                     session: SessionDep, if_match: IfMatch) -> SamlConfigOut:
    """Create (201) or replace (200) the SAML configuration: the IdP's https SSO URL, its signing certificate (one
    PEM), entity id, and whether SSO is enforced (members must then sign in through it). Admins only;
    If-Match guards a replacement (412)."""
    assert principal.tenant_id is not None  # Authorize("tenant"): an active tenant
    await ensure_feature(session, principal.tenant_id, "sso")
    config, created = await service.put_config(session, audit_ctx, principal, data, if_match)
    response.status_code = 201 if created else 200
    set_version(response, config)
    return service.config_out(config, await service.tenant_by_id(session, principal.tenant_id))


@router.delete("/config", status_code=204, responses=error_responses(401, 403, 404, 412))
async def delete_config(principal: Admin, audit_ctx: AuditCtx, session: SessionDep, if_match: IfMatch) -> Response:
    # Not tier-gated: a tenant that left the enterprise plan can still remove its config.
    """Remove the SAML configuration (allowed even after leaving the plan that includes SSO). If-Match guards
    (412). 404: none configured."""
    await service.delete_config(session, audit_ctx, principal, if_match)
    return Response(status_code=204)


@router.get("/login", status_code=302, dependencies=[SamlWorks], response_class=RedirectResponse, responses=error_responses(404, 422, 429))
async def login(request: Request, session: SessionDep,
                tenant: Annotated[str | None, Query(max_length=80)] = None,
                email: Annotated[str | None, Query(max_length=320)] = None,
                next: Annotated[str | None, Query(max_length=1000)] = None) -> RedirectResponse:
    """Start SP-initiated sign-in for a tenant given by slug, or by the domain of an e-mail."""
    await signin.enforce_rate_limit(request)
    if tenant:
        found, config = await sp_for_slug(session, tenant)
    elif email:
        found, config = await sp_for_email(session, email)
    else:
        raise AppError("VALIDATION_FAILED", "The request did not validate",
                       details={"fields": {"tenant": "give tenant=<slug> or email=<address>"}})
    location = await signin.begin_login(session, found, config, next)
    return RedirectResponse(location, status_code=302, headers={"Cache-Control": "no-store"})


@router.get("/{tenant_slug}/metadata", dependencies=[SamlWorks], responses={200: {"content": {"application/samlmetadata+xml": {}}},
                                                  **error_responses(404)})
async def metadata(tenant_slug: str, session: SessionDep) -> Response:
    """The service-provider metadata XML of this tenant, to upload to the IdP. 404: no SSO for this tenant."""
    tenant, config = await sp_for_slug(session, tenant_slug)
    return Response(sp_metadata_xml(config, tenant.slug), media_type="application/samlmetadata+xml")


@router.post("/{tenant_slug}/acs", status_code=303, dependencies=[SamlWorks], response_class=RedirectResponse,
             responses=error_responses(401, 404, 422, 429))
async def acs(tenant_slug: str, request: Request, session: SessionDep,
              SAMLResponse: Annotated[str, Form(max_length=signin.MAX_RESPONSE_B64)],  # noqa: N803 (SAML's name)
              RelayState: Annotated[str | None, Form(max_length=1000)] = None) -> RedirectResponse:  # noqa: N803
    """Assertion consumer service: the IdP posts the signed SAMLResponse here; a valid one (signature, audience,
    time, single use) signs the user in (provisioning them on first sign-in) and redirects (303) to where
    the sign-in started. 401: the response does not verify."""
    await signin.enforce_rate_limit(request)
    if len(tenant_slug) > 80:
        raise sso_not_found()
    tenant, config = await sp_for_slug(session, tenant_slug)
    try:
        result = await signin.consume(session, tenant, config, SAMLResponse, RelayState)
    except signin.SamlRefused as exc:
        error = signin.refused(session, request, tenant, exc)
        await session.commit()  # keep the failure's audit record (and any spent request/assertion)
        raise error from None
    out = RedirectResponse(result.redirect_to, status_code=303, headers={"Cache-Control": "no-store"})
    await signin.sign_in(session, request, out, tenant, result)
    return out
