"""What the app mounts, one line per domain.

Each domain exposes a `mount` module with `API_ROUTERS` (under /api/v1), optionally `ROOT_ROUTERS`
(surfaces at the root, e.g. /oauth/*, /ping/{uuid}) and `BACKGROUND` (long-running loops
`fn(db, stop_event)`); this module imports nothing else from a domain (docs/architecture.md).
"""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter

from xinex.ai_heartbeats import mount as ai_heartbeats
from xinex.analytics import mount as analytics
from xinex.annotations import mount as annotations
from xinex.audit import mount as audit
from xinex.auth import mount as auth
from xinex.billing import mount as billing
from xinex.heartbeats import mount as heartbeats
from xinex.incidents import mount as incidents
from xinex.integrations import mount as integrations
from xinex.maintenance import mount as maintenance
from xinex.monitors import mount as monitors
from xinex.notify import mount as notify
from xinex.oncall import mount as oncall
from xinex.realtime import mount as realtime
from xinex.sso import mount as sso
from xinex.status_pages import mount as status_pages
from xinex.telemetry import mount as telemetry
from xinex.tenants import mount as tenants
from xinex.tiers import mount as tiers
from xinex.webhooks import mount as webhooks

# In mounting order (the order of the OpenAPI document and of route matching).
MOUNTS = [auth, sso, tenants, tiers, audit, heartbeats, monitors, ai_heartbeats, maintenance, analytics,
          incidents, oncall, notify, webhooks, realtime, telemetry, annotations, status_pages, integrations, billing]

# Mounted under /api/v1
ROUTERS: list[APIRouter] = [router for domain in MOUNTS for router in domain.API_ROUTERS]
# Mounted at the root: our OAuth server (/oauth/*, /.well-known/*) and the /ping/{uuid} dialect.
PUBLIC_ROOT_ROUTERS: list[APIRouter] = [router for domain in MOUNTS for router in getattr(domain, "ROOT_ROUTERS", [])]
# Long-running loops: in-process in embedded mode; `xinex worker` runs them in production.
BACKGROUND_TASKS: list[Callable[..., Any]] = [fn for domain in MOUNTS for fn in getattr(domain, "BACKGROUND", [])]
# Only inside the single embedded process (the OTLP receivers own their ports; `xinex otlp`
# runs them in production). Every other loop claims work with compare-and-set or SKIP LOCKED, so
# several workers can run them side by side.
EMBEDDED_ONLY_TASKS: list[Callable[..., Any]] = [*telemetry.BACKGROUND]
