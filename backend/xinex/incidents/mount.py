"""What the incidents domain mounts: its API routers and the incident engine (the outbox consumer)."""

from xinex.incidents.engine import run_incident_engine
from xinex.incidents.router import router as incidents_router
from xinex.incidents.silence_router import router as silence_router

API_ROUTERS = [incidents_router, silence_router]  # under /api/v1
BACKGROUND = [run_incident_engine]  # fn(db, stop_event)
