"""The mobile surface (mobile_api/README.md, docs/mobile.md): what the phone app talks to, built on backend
services only.

Sign-in for the app is our own OAuth 2 authorization server (PKCE S256 → short-lived JWT access token +
rotating refresh token), implemented with the rest of authentication in `xinex.auth.oauth_server` so that
every credential resolves through one place; push tokens and APNs/FCM delivery are the `xinex.push` domain.
This package holds the app's endpoint contract (`contract.py`: every row of the API inventory, what a
mobile JWT gets there) and re-exports the pieces the mobile surface is built from.
"""

from xinex.auth.oauth_server.router import router as oauth_router
from xinex.identity.credentials import resolve_access_token

from mobile_api.contract import ROWS, Row, app_rows

__all__ = ["ROWS", "Row", "app_rows", "oauth_router", "resolve_access_token"]
