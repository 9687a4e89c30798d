"""The list of routers the app mounts: one line per domain."""

from xinex.audit.router import router as audit_router
from xinex.auth.router import router as auth_router
from xinex.auth.oauth_login.router import router as oauth_login_router
from xinex.auth.tokens import router as tokens_router
from xinex.tenants.router import router as tenants_router
from xinex.tiers.router import router as tiers_router

# Mounted under /api/v1
ROUTERS = [auth_router, tokens_router, tenants_router, tiers_router, audit_router, oauth_login_router]
# Mounted at the root (compatible surfaces such as /ping/{uuid}, /oauth/*)
PUBLIC_ROOT_ROUTERS: list = []
