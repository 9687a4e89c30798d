"""What the maintenance domain mounts: its API router and the recurring-window roller."""

from xinex.maintenance.jobs import run_roller
from xinex.maintenance.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_roller]  # fn(db, stop_event)
