"""What the tenants domain mounts: /tenants, /members and /invitations."""

from xinex.tenants.router import router

API_ROUTERS = [router]  # under /api/v1
