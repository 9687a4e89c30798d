"""What the realtime domain mounts: the WebSocket ticket and event endpoints."""

from xinex.realtime.router import router

API_ROUTERS = [router]  # under /api/v1
