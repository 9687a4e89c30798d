"""The HTTP surfaces of integrations: management under /api/v1, the senders' endpoints at the root."""
