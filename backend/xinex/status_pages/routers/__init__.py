"""HTTP of status pages: the tenant's API (admin), the public JSON (public) and the public pages (pages)."""
