"""Status pages: the public face of a tenant (docs/status-pages.md)."""
