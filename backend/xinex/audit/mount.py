"""What the audit domain mounts."""

from xinex.audit.router import router

API_ROUTERS = [router]  # under /api/v1
