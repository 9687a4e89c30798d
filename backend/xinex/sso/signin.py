"""SP-initiated sign-in: the AuthnRequest redirect and the assertion consumer service (ACS).

python3-saml (strict) checks the signature against the pinned certificate, issuer, audience,
destination, timestamps and subject confirmation; we add what it leaves loose (exact Destination and
Recipient, a required audience, InResponseTo bound to a request we issued, assertion-ID replay).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import Request, Response
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError as VE
from onelogin.saml2.response import OneLogin_Saml2_Response
from sqlalchemy.ext.asyncio import AsyncSession

from xinex.audit import service as audit
from xinex.auth.sessions import start_session
from xinex.kit.errors import AppError
from xinex.models.sso import SamlConfig
from xinex.models.tenant import Tenant
from xinex.settings import get_settings
from xinex.sso import replay
from xinex.sso.provision import Provisioned, ProvisioningRefused, provision
from xinex.sso.saml_settings import request_data, saml_settings, sp_urls

MAX_RESPONSE_B64 = 512 * 1024
EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"\\]{1,64}@[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?\.[a-z]{2,63}$")

# python3-saml error code → our audit reason code
REASONS = {
    VE.INVALID_SIGNATURE: "invalid_signature", VE.NO_SIGNATURE_FOUND: "unsigned",
    VE.NO_SIGNED_ASSERTION: "unsigned", VE.WRONG_NUMBER_OF_SIGNATURES: "invalid_signature",
    VE.DEPRECATED_SIGNATURE_METHOD: "deprecated_algorithm", VE.DEPRECATED_DIGEST_METHOD: "deprecated_algorithm",
    VE.WRONG_AUDIENCE: "wrong_audience", VE.WRONG_DESTINATION: "wrong_destination",
    VE.EMPTY_DESTINATION: "wrong_destination", VE.ASSERTION_EXPIRED: "expired", VE.ASSERTION_TOO_EARLY: "not_yet_valid",
    VE.RESPONSE_EXPIRED: "expired", VE.SESSION_EXPIRED: "expired", VE.WRONG_SUBJECTCONFIRMATION: "subject_confirmation",
    VE.WRONG_INRESPONSETO: "wrong_in_response_to", VE.WRONG_ISSUER: "wrong_issuer",
    VE.STATUS_CODE_IS_NOT_SUCCESS: "idp_status_not_success", VE.INVALID_XML_FORMAT: "malformed",
}


class SamlRefused(Exception):
    def __init__(self, reason: str, email: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.email = email


@dataclass
class SignedIn:
    provisioned: Provisioned
    redirect_to: str


def safe_relay_state(value: str | None) -> str:
    """Only a same-site relative path; anything else (absolute, scheme-relative, odd) becomes "/"."""
    if not value or len(value) > 1000 or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


async def begin_login(session: AsyncSession, tenant: Tenant, config: SamlConfig, next_path: str | None) -> str:
    """The IdP URL carrying a deflated AuthnRequest (HTTP-Redirect binding); its ID is stored."""
    urls = sp_urls(tenant.slug)
    auth = OneLogin_Saml2_Auth(request_data(urls.login_url), old_settings=saml_settings(config, tenant.slug))
    location = auth.login(return_to=safe_relay_state(next_path))
    await replay.issue_request(session, auth.get_last_request_id())
    return location


def _strict_extras(response: OneLogin_Saml2_Response, acs_url: str, request_id: str) -> None:
    """python3-saml accepts a Destination that merely starts with our URL, a Recipient that merely
    contains it, and no AudienceRestriction at all; we require exact values."""
    destination = response.document.get("Destination")
    if destination is not None and destination != acs_url:
        raise SamlRefused("wrong_destination")
    if not response.get_audiences():
        raise SamlRefused("wrong_audience")
    # From the signed assertion only (python3-saml's query follows the signature reference).
    confirmations = response._query_assertion("/saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData")
    if not confirmations:
        raise SamlRefused("subject_confirmation")
    for scd in confirmations:
        if scd.get("Recipient") != acs_url:
            raise SamlRefused("wrong_destination")
        if scd.get("InResponseTo") != request_id:
            raise SamlRefused("wrong_in_response_to")


async def _validated(session: AsyncSession, tenant: Tenant, config: SamlConfig, saml_response: str):
    urls = sp_urls(tenant.slug)
    if not saml_response or len(saml_response) > MAX_RESPONSE_B64:
        raise SamlRefused("malformed")
    try:
        response = OneLogin_Saml2_Response(saml_settings(config, tenant.slug), saml_response)
        in_response_to = response.get_in_response_to()
    except Exception as exc:  # undecodable base64, broken XML, DTDs: all the same to the caller
        raise SamlRefused("malformed") from exc
    if not in_response_to:
        raise SamlRefused("unsolicited")  # IdP-initiated sign-in is not accepted
    pending = await replay.find_request(session, in_response_to)
    if pending is None:
        raise SamlRefused("unknown_request")
    try:
        response.is_valid(request_data(urls.acs_url, post_data={"SAMLResponse": saml_response}),
                          request_id=in_response_to, raise_exceptions=True)
    except VE as exc:
        raise SamlRefused(REASONS.get(exc.code, "invalid_response")) from exc
    except Exception as exc:
        raise SamlRefused("invalid_response") from exc
    _strict_extras(response, urls.acs_url, in_response_to)
    return response, pending


async def consume(session: AsyncSession, tenant: Tenant, config: SamlConfig, saml_response: str,
                  relay_state: str | None) -> SignedIn:
    await replay.prune(session)
    response, pending = await _validated(session, tenant, config, saml_response)
    not_on_or_after = response.get_assertion_not_on_or_after()
    expiry = datetime.fromtimestamp(not_on_or_after, UTC) if not_on_or_after else None
    if not await replay.remember_assertion(session, response.get_assertion_id(), expiry):
        raise SamlRefused("replayed")
    if not await replay.consume_request(session, pending):
        raise SamlRefused("request_already_used")
    # get_nameid reads the parsed NameID: comments are dropped by the parser, so
    # "user@a.com<!---->.evil.com" reads as "user@a.com.evil.com", never "user@a.com".
    subject = (response.get_nameid() or "").strip()
    email = subject.lower()
    if not EMAIL.match(email) or len(subject) > 320:
        raise SamlRefused("nameid_not_email")
    domain = email.rpartition("@")[2]
    if config.allowed_domains and domain not in config.allowed_domains:
        raise SamlRefused("domain_not_allowed", email)
    try:
        provisioned = await provision(session, tenant, config, subject, email)
    except ProvisioningRefused as exc:
        raise SamlRefused(exc.reason, email) from exc
    return SignedIn(provisioned=provisioned, redirect_to=safe_relay_state(relay_state))


async def sign_in(session: AsyncSession, request: Request, response: Response, tenant: Tenant,
                  result: SignedIn) -> None:
    """A verified assertion: start the browser session (its cookies go on `response`) and record the sign-in."""
    user = result.provisioned.user
    await start_session(session, request, response, user, tenant.id, sso_tenant_id=tenant.id)
    audit.record(session, "auth.login", request=request, tenant_id=tenant.id, actor_user_id=user.id,
                 actor_label=user.email, details={
                     "method": "saml", "user_created": result.provisioned.user_created,
                     "membership_created": result.provisioned.membership_created,
                     "identity_linked": result.provisioned.identity_linked,
                 })


def refused(session: AsyncSession, request: Request, tenant: Tenant, exc: SamlRefused) -> AppError:
    audit.record(session, "auth.login", request=request, tenant_id=tenant.id, outcome="failure",
                 actor_label=exc.email, details={"method": "saml", "reason": exc.reason})
    return AppError("UNAUTHENTICATED", "Single sign-on failed", details={"reason": exc.reason})


async def enforce_rate_limit(request: Request) -> None:
    settings = get_settings()
    await request.app.state.limiter.enforce(settings.rate_limit_login_ip, "sso-acs-ip",
                                            getattr(request.state, "client_ip", "unknown"))
