"""What the webhooks domain mounts: its API router and the delivery dispatcher loop."""

from xinex.webhooks.jobs import deliver_webhook, run_dispatcher
from xinex.webhooks.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_dispatcher]  # fn(db, stop_event)
JOBS = [deliver_webhook]  # enqueued after the commit that creates a delivery
