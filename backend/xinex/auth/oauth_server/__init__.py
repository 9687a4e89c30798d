"""Our own OAuth 2 authorization server for the mobile app (Authlib; PKCE S256, JWT access tokens,
rotating refresh tokens). `access.resolve_access_token` is what bearer-JWT credentials resolve through."""
