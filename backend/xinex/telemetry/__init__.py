"""Telemetry: OTLP ingest into the time-series store, OQL, annotations (issue 5)."""
