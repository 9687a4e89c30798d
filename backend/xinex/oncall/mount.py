"""What the on-call domain mounts: routing rules, escalation policies, schedules and the escalation loop."""

from xinex.oncall.escalation import run_escalations
from xinex.oncall.paging import deliver_page
from xinex.oncall.router import router
from xinex.oncall.schedule_router import router as schedule_router

API_ROUTERS = [router, schedule_router]  # under /api/v1
BACKGROUND = [run_escalations]  # fn(db, stop_event)
JOBS = [deliver_page]  # enqueued after the commit that creates a page
