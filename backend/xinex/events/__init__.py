"""The durable outbox of state changes (monitor down/up, heartbeat late/down, budget breached…).

Writers call `emit(session, ...)` inside the same transaction as the state change, so an event
exists if and only if the change committed. Consumers (the incident engine, webhooks, the
real-time feed) claim rows with compare-and-set and mark them processed; they must be idempotent.
"""
