"""What the auth domain mounts: sign-in and account routes, API tokens, the OAuth login and the OAuth server."""

from xinex.auth.oauth_login.router import router as oauth_login_router
from xinex.auth.oauth_server.router import api_router as oauth_server_api_router
from xinex.auth.oauth_server.router import router as oauth_server_router
from xinex.auth.router import router as auth_router
from xinex.auth.router import tokens_router

API_ROUTERS = [auth_router, tokens_router, oauth_login_router, oauth_server_api_router]  # under /api/v1
ROOT_ROUTERS = [oauth_server_router]  # /oauth/*, /.well-known/*
