"""What the tiers domain mounts."""

from xinex.tiers.router import router

API_ROUTERS = [router]  # under /api/v1
