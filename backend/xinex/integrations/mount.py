"""What the integrations domain mounts: management under /api/v1, the senders' endpoints at the root."""

from xinex.integrations.routers.inbound import EventsFastPath
from xinex.integrations.routers.inbound import router as inbound_router
from xinex.integrations.routers.manage import router as manage_router

API_ROUTERS = [manage_router]  # under /api/v1
ROOT_ROUTERS = [inbound_router]  # /v2/enqueue (PagerDuty), /v2/alerts (Opsgenie), /hooks/{key}
BACKGROUND: list[object] = []  # inbound alerts are outbox events: the incident engine consumes them
# Paths whose bodies get the inbound cap (settings.integration_body_limit) instead of the API's.
INBOUND_PREFIXES = ("/v2/enqueue", "/v2/change/enqueue", "/v2/alerts", "/hooks/")
# The ASGI middleware app.py installs innermost: it answers POST /v2/enqueue without FastAPI's routing.
FAST_PATH = EventsFastPath
