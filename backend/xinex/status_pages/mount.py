"""What the status-pages domain mounts: the tenant API under /api/v1, the public JSON under /api/v1 (matched
before every other API route: it is read by anyone, at CDN rates, and FastAPI tries routes in order), and
the public pages (HTML, SSE, feeds, badges, subscription links) at /status/{slug}, and the same at `/` of a
page's custom domain (domains.py)."""

from xinex.status_pages import jobs
from xinex.status_pages.domains import CustomDomainRouter
from xinex.status_pages.fastpath import PublicJsonFastPath
from xinex.status_pages.routers.admin import router as admin_router
from xinex.status_pages.routers.pages import router as pages_router
from xinex.status_pages.routers.public import router as public_router

API_ROUTERS = [admin_router]  # under /api/v1
PUBLIC_API_ROUTERS = [public_router]  # under /api/v1, matched first
ROOT_ROUTERS = [pages_router]  # /status/{slug}…, matched first among the root routes
JOBS = [jobs.send_confirmation, jobs.notify_subscribers]  # enqueued after the commits that ask for them
BACKGROUND = [jobs.run_dispatcher]  # fn(db, stop): notifications due for a retry, and those whose job was lost
MIDDLEWARE = [PublicJsonFastPath, CustomDomainRouter]  # pure ASGI, innermost: a page's custom domain is served that page at /
