"""Per-heartbeat ping throttle: a token bucket per heartbeat, in the API process's memory.

Like healthchecks.io's per-check throttle it protects the database from one id pinged in a loop
(a runaway script, a flood): past the limit a ping is refused (429 + Retry-After) and not stored —
unless it changes the heartbeat's state (a success while not up, a fail while not down), which is
always applied, so throttling never loses an outage or a recovery. Buckets live in each API
process (several processes each allow the limit); no shared store sits on the ping path.
"""

from __future__ import annotations

import math
import time
import uuid

MAX_TRACKED = 100_000  # past this many buckets, full (idle) ones are forgotten


class PingThrottle:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[uuid.UUID, tuple[float, float]] = {}  # id -> (tokens, at)

    def take(self, key: uuid.UUID) -> float | None:
        """Spend one token for `key`: None when allowed, else the seconds until one is available."""
        now = self._clock()
        tokens, at = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_TRACKED:
            self._forget_idle(now)
        return None

    def _forget_idle(self, now: float) -> None:
        full_after = self.capacity / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds - 1e-6)))  # whole seconds, not one more for a rounding error


def throttle_for(app) -> PingThrottle | None:
    """The app's throttle (None when XINEX_PING_RATE_LIMIT_PER_MINUTE is 0)."""
    throttle = getattr(app.state, "ping_throttle", False)
    if throttle is False:
        per_minute = app.state.settings.ping_rate_limit_per_minute
        throttle = PingThrottle(per_minute) if per_minute > 0 else None
        app.state.ping_throttle = throttle
    return throttle
