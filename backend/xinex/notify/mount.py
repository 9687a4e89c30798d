"""What the notify domain mounts: channels and the notification log, the caller's feed and
preferences, and the delivery retrier loop."""

from xinex.notify.jobs import run_retrier
from xinex.notify.router import router

API_ROUTERS = [router]  # under /api/v1
BACKGROUND = [run_retrier]  # fn(db, stop_event)
