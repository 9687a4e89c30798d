"""What the app mounts, one line per domain.

A domain with several routers or background loops exposes a `mount` module with `API_ROUTERS`
(under /api/v1), optionally `ROOT_ROUTERS` (compatible surfaces at the root, e.g. /ping/{uuid})
and `BACKGROUND` (long-running loops `fn(db, stop_event)`).
"""

from xinex.ai_heartbeats import mount as ai_heartbeats
from xinex.analytics import mount as analytics
from xinex.audit import mount as audit
from xinex.auth.oauth_login.router import router as oauth_login_router
from xinex.auth.oauth_server.router import api_router as oauth_server_api_router
from xinex.auth.oauth_server.router import router as oauth_server_router
from xinex.auth.router import router as auth_router
from xinex.auth.tokens import router as tokens_router
from xinex.heartbeats import mount as heartbeats
from xinex.incidents import mount as incidents
from xinex.maintenance import mount as maintenance
from xinex.monitors import mount as monitors
from xinex.notify import mount as notify
from xinex.oncall import mount as oncall
from xinex.realtime import mount as realtime

try:
    from xinex.sso.router import router as sso_router
except Exception as exc:  # e.g. python-xmlsec refusing to import: the product runs, SSO answers 503
    from xinex.sso.selftest import unavailable_router

    sso_router = unavailable_router(exc)
from xinex.telemetry import mount as telemetry
from xinex.tenants.router import router as tenants_router
from xinex.tiers import mount as tiers
from xinex.webhooks import mount as webhooks

DOMAINS = [heartbeats, monitors, ai_heartbeats, maintenance, analytics, incidents, oncall, notify, webhooks, realtime,
           telemetry]

# Mounted under /api/v1
ROUTERS: list = [
    auth_router, tokens_router, oauth_login_router, oauth_server_api_router, sso_router, tenants_router,
    *tiers.API_ROUTERS, *audit.API_ROUTERS,
    *(router for domain in DOMAINS for router in domain.API_ROUTERS),
]
# Mounted at the root: our OAuth server (/oauth/*, /.well-known/*) and the /ping/{uuid} dialect.
PUBLIC_ROOT_ROUTERS: list = [
    oauth_server_router,
    *(router for domain in DOMAINS for router in getattr(domain, "ROOT_ROUTERS", [])),
]
# Long-running loops: in-process in embedded mode; `xinex worker` runs them in production.
BACKGROUND_TASKS: list = [fn for domain in DOMAINS for fn in getattr(domain, "BACKGROUND", [])]
# Only inside the single embedded process (the OTLP receivers own their ports; `xinex otlp`
# runs them in production). Every other loop claims work with compare-and-set or SKIP LOCKED, so
# several workers can run them side by side.
EMBEDDED_ONLY_TASKS: list = [*telemetry.BACKGROUND]
