"""What notify, webhooks and realtime mount: API routers and long-running loops."""

from xinex.notify.feed_router import router as feed_router
from xinex.notify.retrier import run_retrier
from xinex.notify.router import router as channels_router
from xinex.realtime.router import router as realtime_router
from xinex.webhooks.dispatcher import run_dispatcher
from xinex.webhooks.router import router as webhooks_router

API_ROUTERS = [channels_router, feed_router, webhooks_router, realtime_router]  # under /api/v1
BACKGROUND = [run_retrier, run_dispatcher]  # fn(db, stop_event)
