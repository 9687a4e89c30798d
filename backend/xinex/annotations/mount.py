"""What the annotations domain mounts."""

from xinex.annotations.router import router

API_ROUTERS = [router]  # under /api/v1
