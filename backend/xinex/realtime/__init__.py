"""Real-time feed: `publish(tenant_id, event)` and the `/ws` WebSocket endpoint."""
