"""What the monitors domain mounts: API routers and the scheduler loop."""

from xinex.monitors.jobs import run_checks, run_scheduler
from xinex.monitors.router import probe_api, probes_router
from xinex.monitors.router import router as monitors_router

API_ROUTERS = [monitors_router, probes_router, probe_api]  # under /api/v1
BACKGROUND = [run_scheduler]  # fn(db, stop_event)
JOBS = [run_checks]  # enqueued by the scheduler for each chunk of due monitors
