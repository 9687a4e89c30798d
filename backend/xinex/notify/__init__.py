"""Notifications: channels, per-user preferences, the delivery ledger and the in-app feed."""
