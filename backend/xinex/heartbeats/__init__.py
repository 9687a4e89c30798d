"""Heartbeats: cron/job monitoring with healthchecks.io semantics, three ping dialects, one engine."""
