"""The one `Principal` every credential resolves to (docs/security.md, "Sign-in"), and the token scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from xinex.models.tenant import ROLE_RANK, Role

# Token scopes are "<area>:read" / "<area>:write"; "*" stands for every area except the
# credential-management ones below. write implies read.
SCOPE_AREAS = (
    "account", "tenant", "tokens", "audit", "monitors", "heartbeats", "incidents", "oncall",
    "notifications", "statuspages", "billing", "telemetry", "webhooks", "probes",
)
# Sign-in management (the user's sessions, API tokens, linked identities and profile) is granted
# to a token only by naming it: a leaked `*:write` or `monitors:read` token must not be able to list
# or end the user's sessions or mint more tokens. `account` covers all of it, `tokens` the API
# tokens alone. Browser sessions and unscoped mobile sign-ins (scopes None) keep it.
EXPLICIT_ONLY_AREAS = frozenset({"account", "tokens"})
# An area also granted by another, broader one.
IMPLIED_BY = {"tokens": "account"}


def valid_scope(scope: str) -> bool:
    area, _, level = scope.partition(":")
    return level in ("read", "write") and (area == "*" or area in SCOPE_AREAS)


# The user id of a principal that is no user (a prober): the nil UUID, which names no user row.
NO_USER = uuid.UUID(int=0)


@dataclass(frozen=True)
class Principal:
    # NO_USER for a prober: a remote probe agent acts as itself (`credential_id` is the probe's id), not as a
    # user. The dependencies of the user-facing API never let a prober in (identity/credentials.py).
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    role: Role | None
    kind: str  # session | api_token | jwt | prober
    credential_id: uuid.UUID
    scopes: frozenset[str] | None = None  # None: everything the role allows
    csrf_token: str | None = None
    email: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def has_role(self, minimum: Role) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[minimum]

    def allows(self, area: str, write: bool) -> bool:
        if self.scopes is None:
            return True
        areas = {area, IMPLIED_BY[area]} if area in IMPLIED_BY else {area}
        if area not in EXPLICIT_ONLY_AREAS:
            areas.add("*")
        wanted = {f"{a}:write" for a in areas}
        if not write:
            wanted |= {f"{a}:read" for a in areas}
        return bool(self.scopes & wanted)
