"""What the incidents and on-call domains mount: API routers and long-running loops."""

from xinex.incidents.engine import run_incident_engine
from xinex.incidents.router import router as incidents_router
from xinex.incidents.silence_router import router as silence_router
from xinex.oncall.escalation import run_escalations
from xinex.oncall.router import router as oncall_router
from xinex.oncall.schedule_router import router as schedule_router

API_ROUTERS = [incidents_router, silence_router, oncall_router, schedule_router]  # under /api/v1
BACKGROUND = [run_incident_engine, run_escalations]  # fn(db, stop_event)
