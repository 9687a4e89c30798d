"""Maintenance windows: one-off and recurring (cron + timezone), scoped to monitors, heartbeats
or tags; they suppress alerts and count as up in uptime analytics."""
