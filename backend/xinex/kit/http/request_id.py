"""X-Request-Id: the client's, when it is a sane token, else a fresh one; echoed on every answer and
kept in `request.state.request_id` (logs, the audit context)."""

from __future__ import annotations

import os


def request_id(given: str | None) -> str:
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return os.urandom(16).hex()
