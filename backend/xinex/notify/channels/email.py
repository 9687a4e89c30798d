"""E-mail channel: a list of addresses, sent over the platform's SMTP relay."""

from __future__ import annotations

import re
from typing import Any

from xinex.notify.channels.common import invalid, only_keys
from xinex.notify.message import NotificationMessage, facts, headline

TRANSPORT = "smtp"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")


def validate(config: dict[str, Any]) -> dict[str, Any]:
    only_keys(config, {"addresses"})
    addresses = config.get("addresses")
    if not isinstance(addresses, list) or not 1 <= len(addresses) <= 50:
        raise invalid("addresses", "one to 50 e-mail addresses")
    for address in addresses:
        if not isinstance(address, str) or not _EMAIL.match(address):
            raise invalid("addresses", "each entry must be an e-mail address")
    return {"addresses": sorted({a.strip().lower() for a in addresses})}


def mask(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)  # addresses are not credentials


def merge(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    return new


def render_mail(message: NotificationMessage) -> tuple[str, str]:
    subject = headline(message)[:200]
    lines = [
        headline(message),
        "",
        *(f"{name}: {value}" for name, value in facts(message)),
        "",
        message.body,
    ]
    if message.url:
        lines += ["", f"View: {message.url}"]
    return subject, "\n".join(lines) + "\n"
