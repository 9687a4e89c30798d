"""Discord webhook: `content` plus one embed (title, description, colour, fields)."""

from __future__ import annotations

from typing import Any

from xinex.notify.channels.common import webhook_url_kind
from xinex.notify.message import NotificationMessage, color_for, facts, headline

validate, mask, merge = webhook_url_kind({"username", "avatar_url"})
TRANSPORT = "http"


def render(config: dict[str, Any], message: NotificationMessage) -> tuple[str, dict[str, Any], dict[str, Any]]:
    embed: dict[str, Any] = {
        "title": headline(message)[:256],
        "description": message.body[:4000],
        "color": color_for(message),
        "fields": [{"name": name, "value": value, "inline": True} for name, value in facts(message)],
    }
    if message.url:
        embed["url"] = message.url
    payload: dict[str, Any] = {"content": headline(message)[:2000], "embeds": [embed],
                     "allowed_mentions": {"parse": []}}  # incident text must never ping @everyone
    for key in ("username", "avatar_url"):
        if config.get(key):
            payload[key] = config[key]
    return config["webhook_url"], payload, {}
