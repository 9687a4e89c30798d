"""Slack incoming webhook: `text` (notification fallback) plus Block Kit `blocks`."""

from __future__ import annotations

from typing import Any

from xinex.notify.channels.common import webhook_url_kind
from xinex.notify.message import NotificationMessage, facts, headline, link_text

validate, mask, merge = webhook_url_kind({"username", "icon_emoji"})
TRANSPORT = "http"


def render(config: dict[str, Any], message: NotificationMessage) -> tuple[str, dict[str, Any], dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline(message)[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}:*\n{value}"}
                                       for name, value in facts(message)]},
    ]
    if message.body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": message.body[:2900]}})
    if message.url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": link_text(message)}, "url": message.url},
        ]})
    # The notification text: a resolved incident's severity is no longer news.
    text = headline(message) if message.event == "incident.resolved" else f"{headline(message)} ({message.severity})"
    payload: dict[str, Any] = {"text": text, "blocks": blocks}
    for key in ("username", "icon_emoji"):
        if config.get(key):
            payload[key] = config[key]
    return config["webhook_url"], payload, {}
