"""Public keys and signed links of status pages (confirmation, unsubscribe, password unlock)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
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


UNLOCK_MAX_AGE = 30 * 86400  # seconds: the cookie's Max-Age, also enforced here on the server side


def unlock_cookie_value(page_id: uuid.UUID, password_hash: str, issued_at: int | None = None) -> str:
    """`<issued-at>.<mac>`: the MAC covers the page, its current password hash and the issue time, so a new
    password locks out every reader holding an old cookie and an old cookie expires here too."""
    stamp = int(time.time()) if issued_at is None else issued_at
    return f"{stamp}.{_mac(f'status-page-unlock:{page_id}:{password_hash}:{stamp}')}"


def unlock_cookie_valid(cookie: str, page_id: uuid.UUID, password_hash: str, now: float | None = None) -> bool:
    """True when the cookie was signed by us for this page and password, and is younger than UNLOCK_MAX_AGE."""
    stamp, _, _mac_part = cookie.partition(".")
    if not stamp.isdigit() or len(stamp) > 12:
        return False
    issued_at = int(stamp)
    age = (time.time() if now is None else now) - issued_at
    if age > UNLOCK_MAX_AGE or age < -300:
        return False
    return hmac.compare_digest(cookie, unlock_cookie_value(page_id, password_hash, issued_at))


def unlock_cookie_name(slug: str) -> str:
    return f"xinex_sp_{slug.replace('-', '_')}"
