"""SQLModel tables, one module per aggregate. Importing this package registers them all."""

from xinex.models.audit import AuditEvent
from xinex.models.identity import ApiToken, EmailToken, User, UserSession
from xinex.models.tenant import Invitation, Membership, Tenant

__all__ = [
    "ApiToken",
    "AuditEvent",
    "EmailToken",
    "Invitation",
    "Membership",
    "Tenant",
    "User",
    "UserSession",
]
