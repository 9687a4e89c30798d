"""Identity: credentials, sessions, API tokens, sign-in methods."""
