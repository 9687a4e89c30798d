"""What the account domain mounts (the export job registers by import)."""

from xinex.account import jobs as _jobs  # noqa: F401 - registers build_export
from xinex.account.router import public_router, router

API_ROUTERS = [router, public_router]  # under /api/v1
