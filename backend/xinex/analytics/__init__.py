"""Uptime and response-time analytics from the time-series store's check results."""
