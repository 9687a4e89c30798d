"""Incidents: outbox events → alerts → deduplicated incidents, correlation, silences."""
