"""What the site mounts at the root: /docs and /redoc with their local assets, and the web app. Mounted
last: the web app's route is the catch-all for every root path no other surface claims."""

from xinex.site.router import router

API_ROUTERS: list[object] = []  # nothing under /api/v1
ROOT_ROUTERS = [router]
