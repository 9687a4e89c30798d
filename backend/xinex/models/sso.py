"""SAML single sign-on: per-tenant IdP configuration, pending AuthnRequests, the assertion replay
store and the (issuer, subject) identities linked to users."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from xinex.kit.tenancy import TenantOwned
from xinex.kit.types import JSONType, utc_field


class SamlConfig(TenantOwned, table=True):
    """One IdP per tenant. The IdP certificate is pinned: signatures verify against it only."""

    __tablename__ = "saml_configs"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_saml_configs_tenant"),)

    idp_entity_id: str = Field(max_length=500)
    idp_sso_url: str = Field(max_length=2000)
    idp_slo_url: str | None = Field(default=None, max_length=2000)
    idp_x509_cert: str = Field(max_length=20000)  # PEM; public material only
    idp_cert_fingerprint: str = Field(max_length=64)  # SHA-256 hex, for display and audit
    default_role: str = Field(default="member", max_length=20)  # role given to just-in-time members
    allowed_domains: list[str] = Field(default_factory=list, sa_type=JSONType)
    enabled: bool = Field(default=True)


class SamlRequest(TenantOwned, table=True):
    """An AuthnRequest we sent: the response's InResponseTo must name one, once, before it expires."""

    __tablename__ = "saml_requests"
    __table_args__ = (UniqueConstraint("tenant_id", "request_id", name="uq_saml_requests_request"),)

    request_id: str = Field(max_length=100)
    expires_at: datetime = utc_field(index=True)
    used_at: datetime | None = utc_field(default=None, nullable=True)


class SamlAssertionSeen(TenantOwned, table=True):
    """Replay store: an assertion ID is accepted once (insert-unique), kept until it expires."""

    __tablename__ = "saml_assertions_seen"
    __table_args__ = (UniqueConstraint("tenant_id", "assertion_id", name="uq_saml_assertions_seen_id"),)

    assertion_id: str = Field(max_length=200)
    expires_at: datetime = utc_field(index=True)


class SsoIdentity(TenantOwned, table=True):
    """A user's identity at a tenant's IdP, linked on (issuer, subject), never on e-mail alone."""

    __tablename__ = "sso_identities"
    __table_args__ = (UniqueConstraint("tenant_id", "issuer", "subject", name="uq_sso_identities_subject"),)

    issuer: str = Field(max_length=500)
    subject: str = Field(max_length=500)
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    last_login_at: datetime | None = utc_field(default=None, nullable=True)
