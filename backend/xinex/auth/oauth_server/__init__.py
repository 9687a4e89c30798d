"""Our own OAuth 2 authorization server for the mobile app (Authlib; PKCE S256, JWT access tokens,
rotating refresh tokens). Its access tokens resolve through `xinex.identity.credentials`, with every
other credential."""
