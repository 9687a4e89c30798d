"""What the notify domain mounts: channels and the notification log, the caller's feed and
preferences, and the delivery retrier loop."""

from xinex.notify.feed_router import router as feed_router
from xinex.notify.retrier import run_retrier
from xinex.notify.router import router as channels_router

API_ROUTERS = [channels_router, feed_router]  # under /api/v1
BACKGROUND = [run_retrier]  # fn(db, stop_event)
