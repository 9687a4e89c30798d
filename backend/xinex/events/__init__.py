"""The durable outbox of state changes (monitor down/up, heartbeat late/down, budget breached…).

Writers call `emit(session, ...)` inside the same transaction as the state change, so an event
exists if and only if the change committed. It has one consumer, the incident engine (which feeds
webhooks and the real-time feed), but several copies of it run at once: the embedded loop, every
`xinex worker`. They claim rows with a lease and mark them processed, must be
idempotent, and get the events of one dedup key one at a time, in the order they were written.
"""
