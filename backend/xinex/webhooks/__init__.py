"""Outgoing webhooks: subscriptions by event type, Standard Webhooks signing, durable deliveries."""
