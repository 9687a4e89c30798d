"""The list of routers the app mounts: one line per domain."""

from xinex.ai_heartbeats import mount as ai_heartbeats_mount
from xinex.analytics import mount as analytics_mount
from xinex.audit.router import router as audit_router
from xinex.auth.oauth_server.router import router as oauth_server_router
from xinex.auth.router import router as auth_router
from xinex.auth.oauth_login.router import router as oauth_login_router
from xinex.auth.tokens import router as tokens_router
from xinex.heartbeats import mount as heartbeats_mount
from xinex.incidents import mount as incidents_mount
from xinex.maintenance import mount as maintenance_mount
from xinex.monitors import mount as monitors_mount
from xinex.notify import mount as notify_mount
from xinex.sso.router import router as sso_router
from xinex.telemetry import mount as telemetry_mount
from xinex.tenants.router import router as tenants_router
from xinex.tiers.router import router as tiers_router

# Mounted under /api/v1
ROUTERS = [auth_router, tokens_router, tenants_router, tiers_router, audit_router, oauth_login_router]
# Mounted at the root (compatible surfaces such as /ping/{uuid}, /oauth/*)
PUBLIC_ROOT_ROUTERS: list = [oauth_server_router]

ROUTERS += heartbeats_mount.API_ROUTERS
PUBLIC_ROOT_ROUTERS += heartbeats_mount.ROOT_ROUTERS
# Long-running loops `fn(db, stop_event)`: started by the app lifespan in embedded mode.
BACKGROUND_TASKS: list = [*heartbeats_mount.BACKGROUND]
ROUTERS.append(sso_router)
ROUTERS += incidents_mount.API_ROUTERS
BACKGROUND_TASKS += incidents_mount.BACKGROUND
ROUTERS += notify_mount.API_ROUTERS; BACKGROUND_TASKS += notify_mount.BACKGROUND  # noqa: E702
# First: its /maintenance-windows (one-off + recurring) supersedes the incidents router's one-off routes.
ROUTERS[:0] = maintenance_mount.API_ROUTERS; BACKGROUND_TASKS += maintenance_mount.BACKGROUND  # noqa: E702
ROUTERS += telemetry_mount.API_ROUTERS; BACKGROUND_TASKS += telemetry_mount.BACKGROUND  # noqa: E702
ROUTERS += ai_heartbeats_mount.API_ROUTERS; BACKGROUND_TASKS += ai_heartbeats_mount.BACKGROUND  # noqa: E702
ROUTERS += analytics_mount.API_ROUTERS
ROUTERS += monitors_mount.API_ROUTERS; BACKGROUND_TASKS += monitors_mount.BACKGROUND  # noqa: E702
# Loops that only make sense inside the single embedded process (the OTLP receivers own their
# ports); `xinex worker` runs every other loop. They all claim work with compare-and-set or
# SKIP LOCKED, so several workers can run them side by side.
EMBEDDED_ONLY_TASKS: list = [*telemetry_mount.BACKGROUND]
