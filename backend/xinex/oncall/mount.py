"""What the on-call domain mounts: routing rules, escalation policies, schedules, the escalation loop
and the page delivery job."""

from xinex.oncall.jobs import deliver_page, run_escalations
from xinex.oncall.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_escalations]  # fn(db, stop_event)
JOBS = [deliver_page]  # enqueued after the commit that creates a page
