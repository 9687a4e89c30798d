"""What the webhooks domain mounts: its API router and the delivery dispatcher loop."""

from xinex.webhooks.dispatcher import run_dispatcher
from xinex.webhooks.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_dispatcher]  # fn(db, stop_event)
