"""What the status-pages domain mounts: the tenant API and the public JSON under /api/v1, the public
pages (HTML, SSE, feeds, badges, subscription links) at /status/{slug}."""

from xinex.status_pages.jobs import notify_subscribers, send_confirmation
from xinex.status_pages.routers.admin import router as admin_router
from xinex.status_pages.routers.pages import router as pages_router
from xinex.status_pages.routers.public import router as public_router

API_ROUTERS = [admin_router, public_router]  # under /api/v1
ROOT_ROUTERS = [pages_router]  # /status/{slug}…

JOBS = [send_confirmation, notify_subscribers]  # enqueued after the commits that ask for them
