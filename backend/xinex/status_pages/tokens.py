"""Public keys and signed links of status pages (confirmation, unsubscribe, password unlock)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid

from xinex.models.status_pages import StatusPageSubscriber
from xinex.settings import get_settings

ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_key(n: int = 10) -> str:
    """A random public identifier (components, incidents, subscribers): never an internal id."""
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _mac(message: str) -> str:
    return hmac.new(get_settings().secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def link_token(purpose: str, subscriber: StatusPageSubscriber) -> str:
    """`<key>.<mac>`: the key names the subscriber, the MAC (over its key, the purpose and, for a
    confirmation, when it was sent: a new request voids the old link) proves the link came from us."""
    stamp = subscriber.confirm_sent_at.isoformat() if purpose == "confirm" and subscriber.confirm_sent_at else ""
    return f"{subscriber.key}.{_mac(f'status-page:{purpose}:{subscriber.key}:{stamp}')[:32]}"


def token_matches(purpose: str, subscriber: StatusPageSubscriber, token: str) -> bool:
    return hmac.compare_digest(link_token(purpose, subscriber), token)


def unlock_cookie_value(page_id: uuid.UUID, password_hash: str) -> str:
    """Changes with the password: a new password locks out every reader holding the old cookie."""
    return _mac(f"status-page-unlock:{page_id}:{password_hash}")


def unlock_cookie_name(slug: str) -> str:
    return f"xinex_sp_{slug.replace('-', '_')}"
