"""SAML 2.0 single sign-on: one service provider per tenant (python3-saml, strict mode).

Enforcement: when a tenant switches `enforce` on, password sign-in is refused for its members
(auth.service.sso_enforced_for). There is no password break-glass: an owner switches enforcement
off through an SSO session or with an API token (`PUT /api/v1/sso/config` or `DELETE`).
"""
