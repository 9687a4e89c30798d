"""What the app mounts, one line per domain.

Each domain exposes a `mount` module with `API_ROUTERS` (under /api/v1), optionally `ROOT_ROUTERS`
(surfaces at the root, e.g. /oauth/*, /ping/{uuid}), `MIDDLEWARE` (pure ASGI, around the routes), `BACKGROUND` (long-running loops: `kit.loops.Loop`
or `fn(db, stop_event)`), `JOBS` (its `@job` functions) and `OUTBOX_SUBSCRIBERS` (what applies each
outbox event); this module imports nothing else from a domain (docs/architecture.md). `xinex worker`
and `xinex run` both start the background work listed here (kit/loops.py, kit/jobs.py).
"""

from asyncio import Event

from fastapi import APIRouter

from xinex.account import mount as account
from xinex.ai_heartbeats import mount as ai_heartbeats
from xinex.analytics import mount as analytics
from xinex.annotations import mount as annotations
from xinex.audit import mount as audit
from xinex.auth import mount as auth
from xinex.billing import mount as billing
from xinex.events.outbox import Subscriber, run_consumer
from xinex.heartbeats import mount as heartbeats
from xinex.incidents import mount as incidents
from xinex.integrations import mount as integrations
from xinex.kit.db import Database
from xinex.kit.jobs import JobFn
from xinex.kit.loops import Loop
from xinex.kit.mail import send_email
from xinex.maintenance import mount as maintenance
from xinex.monitors import mount as monitors
from xinex.notify import mount as notify
from xinex.oncall import mount as oncall
from xinex.push import mount as push
from xinex.realtime import mount as realtime
from xinex.site import mount as site
from xinex.sso import mount as sso
from xinex.status_pages import mount as status_pages
from xinex.telemetry import mount as telemetry
from xinex.tenants import mount as tenants
from xinex.tiers import mount as tiers
from xinex.webhooks import mount as webhooks

# In mounting order (the order of the OpenAPI document and of route matching).
MOUNTS = [auth, sso, tenants, tiers, audit, heartbeats, monitors, ai_heartbeats, maintenance, analytics,
          incidents, oncall, notify, push, webhooks, realtime, telemetry, annotations, status_pages, integrations,
          billing, account, site]  # site last: the web app's route is the root catch-all

# Unauthenticated pages anyone reads at CDN rates are matched first: FastAPI tries routes in order, and a
# route behind ~400 others pays for scanning them on every request (docs/status-pages.md, "Performance").
MATCHED_FIRST = [status_pages]

# Mounted under /api/v1
ROUTERS: list[APIRouter] = [
    *(router for domain in MATCHED_FIRST for router in getattr(domain, "PUBLIC_API_ROUTERS", [])),
    *(router for domain in MOUNTS for router in domain.API_ROUTERS),
]
# Mounted at the root: our OAuth server (/oauth/*, /.well-known/*), the /ping/{uuid} dialect, …, /status/{slug}
# (matched first) and the site (/docs, /redoc, the web app; last: its route is the root catch-all).
PUBLIC_ROOT_ROUTERS: list[APIRouter] = [
    *(router for domain in MATCHED_FIRST for router in getattr(domain, "ROOT_ROUTERS", [])),
    *(router for domain in MOUNTS if domain not in MATCHED_FIRST for router in getattr(domain, "ROOT_ROUTERS", [])),
]
# Pure ASGI middleware a domain needs around the routes (innermost, in mounting order): the status pages'
# custom domains (a request's Host chooses a page).
MIDDLEWARE: list[type] = [m for domain in MOUNTS for m in getattr(domain, "MIDDLEWARE", [])]
# Applied to every outbox event, in one transaction per event (events/outbox.py): the incident engine.
OUTBOX_SUBSCRIBERS: list[Subscriber] = [sub for domain in MOUNTS for sub in getattr(domain, "OUTBOX_SUBSCRIBERS", [])]


async def run_outbox_consumer(db: Database, stop: Event) -> None:
    """Claims outbox events and applies them to OUTBOX_SUBSCRIBERS until `stop`."""
    await run_consumer(db, stop, OUTBOX_SUBSCRIBERS)


# Long-running loops, each supervised: in-process in embedded mode (`xinex run`); `xinex worker` runs
# them in production, except the `embedded_only` ones (the OTLP receivers own their ports; `xinex otlp`
# runs them). Every other loop claims work with compare-and-set or SKIP LOCKED, so several workers can
# run them side by side.
BACKGROUND_TASKS: list[Loop] = [
    Loop("events.outbox.consumer", run_outbox_consumer),
    *(Loop.of(fn) for domain in MOUNTS for fn in getattr(domain, "BACKGROUND", [])),
]
# Every job a queue may hold, by name (kit/jobs.py): the mounts' and kit's own mail job.
JOBS: list[JobFn] = [send_email, *(fn for domain in MOUNTS for fn in getattr(domain, "JOBS", []))]
