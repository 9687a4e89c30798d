"""What the analytics domain mounts."""

from xinex.analytics.router import router

API_ROUTERS = [router]  # under /api/v1
