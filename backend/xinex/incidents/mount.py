"""What the incidents domain mounts: its API routers, and the incident engine as the outbox's subscriber."""

from xinex.incidents.engine import handle
from xinex.incidents.router import router

API_ROUTERS = [router]  # under /api/v1
# Every outbox event (monitor down/up, heartbeat late, budget breached, …) is applied by the engine:
# alert → incident → route → page, plus the source's outgoing webhook (events/outbox.py runs it).
OUTBOX_SUBSCRIBERS = [handle]
