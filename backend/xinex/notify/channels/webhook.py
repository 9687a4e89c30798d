"""Generic webhook channel: a JSON document per notification, optionally signed (Standard Webhooks)."""

from __future__ import annotations

import re
import time
import uuid

from xinex.kit.types import to_rfc3339
from xinex.notify.channels.common import MASK, invalid, mask_url, only_keys, require_url
from xinex.notify.message import NotificationMessage
from xinex.webhooks import signing

TRANSPORT = "http"
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_RESERVED = {"host", "content-length", "content-type", "webhook-id", "webhook-timestamp", "webhook-signature"}


def validate(config: dict) -> dict:
    only_keys(config, {"url", "headers", "secret"})
    out: dict = {"url": require_url(config, "url")}
    headers = config.get("headers") or {}
    if not isinstance(headers, dict) or len(headers) > 20:
        raise invalid("headers", "must be an object of at most 20 headers")
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
            raise invalid("headers", f"header name {name[:64]!r} is not allowed")
        if not isinstance(value, str) or len(value) > 1000 or "\n" in value or "\r" in value:
            raise invalid("headers", f"header {name} needs a single-line string value")
    out["headers"] = dict(headers)
    secret = config.get("secret")
    if secret is not None:
        if not isinstance(secret, str) or not signing.valid_secret(secret):
            raise invalid("secret", "must be a whsec_<base64> secret of at least 16 bytes")
        out["secret"] = secret
    return out


def mask(config: dict) -> dict:
    out = {"url": mask_url(config.get("url", "")), "headers": {k: MASK for k in config.get("headers", {})}}
    if config.get("secret"):
        out["secret"] = MASK
    return out


def merge(new: dict, old: dict) -> dict:
    """Masked values sent back on update keep what is stored."""
    out = dict(new)
    if old.get("url") and new.get("url") == mask_url(old["url"]):
        out["url"] = old["url"]
    if isinstance(new.get("headers"), dict):
        out["headers"] = {k: old.get("headers", {}).get(k, v) if v == MASK else v for k, v in new["headers"].items()}
    if new.get("secret") == MASK:
        out["secret"] = old.get("secret")
    return out


def render(config: dict, message: NotificationMessage) -> tuple[str, dict, dict]:
    """The JSON document (docs/concepts.md, "The webhook channel's payload")."""
    payload = {
        "event": message.event,
        "test": message.test,
        "incident_id": str(message.incident_id) if message.incident_id else None,
        "title": message.title,
        "body": message.body,
        "severity": message.severity,
        "url": message.url,
        # The incident's dedup key: the same on trigger, escalation, acknowledge and resolve.
        "dedup_key": message.incident_key,
        # This delivery's id: the same on every retry of it (the page id; "test:<uuid>" for a test).
        "message_id": message.dedup_key,
        "opened_at": _rfc3339(message.opened_at),
        "resolved_at": _rfc3339(message.resolved_at),
    }
    headers = dict(config.get("headers") or {})
    return config["url"], payload, headers


def sign_headers(config: dict, body: bytes, msg_id: str | None = None) -> dict:
    if not config.get("secret"):
        return {}
    return signing.headers([config["secret"]], msg_id or str(uuid.uuid4()), int(time.time()), body)


def _rfc3339(at) -> str | None:
    return to_rfc3339(at) if at is not None else None
