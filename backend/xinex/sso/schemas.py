"""Request and response bodies of the SSO admin API."""

from __future__ import annotations

import re
import uuid
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from xinex.kit.types import NulFreeStr, UTCDatetime
from xinex.settings import get_settings
from xinex.sso.certs import parse_certificate

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def check_idp_url(value: str) -> str:
    """https only; plain http is accepted when the operator allows private targets (tests, labs)."""
    value = value.strip()
    parts = urlsplit(value)
    allowed = {"https", "http"} if get_settings().outbound_allow_private else {"https"}
    if parts.scheme not in allowed or not parts.hostname:
        raise ValueError("must be an https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials")
    return value


class SamlConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {
            "idp_entity_id": "https://idp.example.com/metadata",
            "idp_sso_url": "https://idp.example.com/sso/saml",
            "idp_x509_cert": "-----BEGIN CERTIFICATE-----\nMIIC…\n-----END CERTIFICATE-----",
            "default_role": "member",
            "allowed_domains": ["example.com"],
            "enabled": True,
            "enforce": False,
        },
    ]})

    idp_entity_id: NulFreeStr = Field(min_length=1, max_length=500)
    idp_sso_url: NulFreeStr = Field(max_length=2000)
    idp_slo_url: NulFreeStr | None = Field(default=None, max_length=2000)
    idp_x509_cert: NulFreeStr = Field(max_length=20000)
    default_role: Literal["admin", "member", "viewer"] = "member"
    allowed_domains: list[str] = Field(default_factory=list, max_length=50)
    enabled: bool = True
    enforce: bool = False

    @field_validator("idp_entity_id")
    @classmethod
    def _entity_id(cls, v: str) -> str:
        v = v.strip()
        if not v or any(c.isspace() for c in v):
            raise ValueError("must be a non-empty identifier without whitespace")
        return v

    @field_validator("idp_sso_url")
    @classmethod
    def _sso_url(cls, v: str) -> str:
        return check_idp_url(v)

    @field_validator("idp_slo_url")
    @classmethod
    def _slo_url(cls, v: str | None) -> str | None:
        return check_idp_url(v) if v else None

    @field_validator("idp_x509_cert")
    @classmethod
    def _cert(cls, v: str) -> str:
        return parse_certificate(v).pem

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for raw in v:
            domain = raw.strip().lower().removeprefix("@")
            if not DOMAIN.match(domain):
                raise ValueError(f"'{raw[:100]}' is not a domain name")
            if domain not in out:
                out.append(domain)
        return out


class SamlConfigOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2b8c1e-5d4a-4e7b-9c6d-1a2b3c4d5e6f", "tenant_id": "7d5e2c1a-9b8f-4a6e-8d3c-2b1a0f9e8d7c",
        "created_at": "2026-12-01T08:00:00Z", "updated_at": "2026-12-04T09:30:00Z",
        "idp_entity_id": "https://idp.example.com/saml", "idp_sso_url": "https://idp.example.com/saml/sso",
        "idp_slo_url": None, "idp_x509_cert": "MIIC…", "idp_cert_fingerprint_sha256": "AB:CD:…",
        "idp_cert_not_after": "2028-01-01T00:00:00Z", "idp_cert_subject": "CN=idp.example.com",
        "default_role": "member", "allowed_domains": ["acme.com"], "enabled": True, "enforce": False,
        "sp_entity_id": "https://xinex.example.com/api/v1/sso/acme/metadata",
        "sp_acs_url": "https://xinex.example.com/api/v1/sso/acme/acs",
        "sp_metadata_url": "https://xinex.example.com/api/v1/sso/acme/metadata",
        "login_url": "https://xinex.example.com/api/v1/sso/login?tenant=acme"}]})
    id: uuid.UUID
    tenant_id: uuid.UUID
    created_at: UTCDatetime
    updated_at: UTCDatetime
    idp_entity_id: str
    idp_sso_url: str
    idp_slo_url: str | None
    idp_x509_cert: str
    idp_cert_fingerprint_sha256: str
    idp_cert_not_after: UTCDatetime
    idp_cert_subject: str
    default_role: str
    allowed_domains: list[str]
    enabled: bool
    enforce: bool
    sp_entity_id: str
    sp_acs_url: str
    sp_metadata_url: str
    login_url: str
