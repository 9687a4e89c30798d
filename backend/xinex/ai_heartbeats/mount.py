"""What the AI-heartbeat domain mounts: its API router and its two loops."""

from xinex.ai_heartbeats.jobs import run_exporter, run_sweeper
from xinex.ai_heartbeats.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_sweeper, run_exporter]  # fn(db, stop_event)
