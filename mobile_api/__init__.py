"""The mobile surface (mobile_api/README.md): what the phone app talks to, built on backend services only.

Sign-in for the app is our own OAuth 2 authorization server (PKCE S256 → short-lived JWT access
token + rotating refresh token). Its implementation sits with the rest of authentication in
`xinex.auth.oauth_server`, so every credential resolves through one place; this package re-exports
the pieces the mobile surface is built from. See README.md for the flow.
"""

from xinex.auth.oauth_server.router import router as oauth_router
from xinex.identity.credentials import resolve_access_token

__all__ = ["oauth_router", "resolve_access_token"]
