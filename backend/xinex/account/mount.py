"""What the account domain mounts: its routers and the export job."""

from xinex.account.jobs import build_export
from xinex.account.router import public_router, router

API_ROUTERS = [router, public_router]  # under /api/v1
JOBS = [build_export]  # enqueued after the commit that asks for an export
