"""SAML 2.0 single sign-on: one service provider per tenant (python3-saml, strict mode).

Enforcement: when a tenant switches `enforce` on, password and social sign-in are refused for its
members (auth.service.sso_enforced_for), their password/social sessions and the tenant's mobile
sign-ins end (auth.revocation), and only sessions its IdP created may act in it. There is no
password break-glass: an owner switches enforcement off through an SSO session or with an API token
(`PUT /api/v1/sso/config` or `DELETE`). SSO is only offered when the start-up signature self-test
passed (sso.selftest).
"""
