"""Inbound alerts from the tools a team already runs (docs/integrations.md)."""
