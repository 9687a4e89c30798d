"""What the heartbeat domain mounts: API routers, root routers and long-running loops."""

from xinex.heartbeats.jobs import run_ping_exporter, run_sweeper
from xinex.heartbeats.router import compat_router, ping_router
from xinex.heartbeats.router import router as native_router

API_ROUTERS = [native_router, compat_router]  # under /api/v1
ROOT_ROUTERS = [ping_router]  # /ping/{uuid}..., like healthchecks.io
BACKGROUND = [run_sweeper, run_ping_exporter]  # fn(db, stop_event)
