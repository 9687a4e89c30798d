"""The per-tenant service provider: its URLs and the python3-saml settings built from a config."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.settings import OneLogin_Saml2_Settings

from xinex.models.sso import SamlConfig
from xinex.settings import get_settings


@dataclass(frozen=True)
class SpUrls:
    entity_id: str
    acs_url: str
    metadata_url: str
    login_url: str


def sp_urls(tenant_slug: str) -> SpUrls:
    base = get_settings().public_url.rstrip("/") + "/api/v1/sso"
    slug = quote(tenant_slug, safe="")
    return SpUrls(
        entity_id=f"{base}/{slug}/metadata",
        acs_url=f"{base}/{slug}/acs",
        metadata_url=f"{base}/{slug}/metadata",
        login_url=f"{base}/login?tenant={slug}",
    )


def saml_settings(config: SamlConfig, tenant_slug: str) -> OneLogin_Saml2_Settings:
    urls = sp_urls(tenant_slug)
    idp: dict = {
        "entityId": config.idp_entity_id,
        "singleSignOnService": {"url": config.idp_sso_url, "binding": C.BINDING_HTTP_REDIRECT},
        # Pinned: signatures verify against this certificate only, never one embedded in a response.
        "x509cert": config.idp_x509_cert,
    }
    if config.idp_slo_url:
        idp["singleLogoutService"] = {"url": config.idp_slo_url, "binding": C.BINDING_HTTP_REDIRECT}
    data = {
        "strict": True,
        "debug": False,
        "sp": {
            "entityId": urls.entity_id,
            "assertionConsumerService": {"url": urls.acs_url, "binding": C.BINDING_HTTP_POST},
            "NameIDFormat": C.NAMEID_EMAIL_ADDRESS,
            "x509cert": "",
            "privateKey": "",
        },
        "idp": idp,
        "security": {
            "authnRequestsSigned": False,
            "wantAssertionsSigned": True,
            "wantMessagesSigned": False,
            "wantAssertionsEncrypted": False,
            "wantNameId": True,
            "wantNameIdEncrypted": False,
            "wantAttributeStatement": False,
            "requestedAuthnContext": False,  # let the IdP choose MFA, passkeys, ...
            "rejectDeprecatedAlgorithm": True,  # no SHA-1 signatures or digests
            "rejectUnsolicitedResponsesWithInResponseTo": True,
            "signatureAlgorithm": C.RSA_SHA256,
            "digestAlgorithm": C.SHA256,
        },
    }
    return OneLogin_Saml2_Settings(data, sp_validation_only=False)


def request_data(acs_or_login_url: str, *, get_data: dict | None = None, post_data: dict | None = None) -> dict:
    """python3-saml compares Destination/Recipient with "the current URL"; we give it our canonical
    public URL rather than whatever Host header reached us (proxies, spoofed hosts)."""
    parts = urlsplit(acs_or_login_url)
    return {
        "https": "on" if parts.scheme == "https" else "off",
        "http_host": parts.netloc,
        "script_name": parts.path,
        "get_data": get_data or {},
        "post_data": post_data or {},
    }


def sp_metadata_xml(config: SamlConfig, tenant_slug: str) -> str:
    settings = saml_settings(config, tenant_slug)
    xml = settings.get_sp_metadata()
    return xml.decode() if isinstance(xml, bytes) else xml
