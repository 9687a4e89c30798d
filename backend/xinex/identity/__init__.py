"""Who is calling: the one `Principal` every credential resolves to, its resolver (`credentials`), the
credential cache, the secrets and access-token formats the resolver checks, and the FastAPI
dependencies (`deps`) every router declares. Below every domain: imports only kit, models and
settings, so audit, auth, tenants and the rest can all depend on it (docs/architecture.md)."""
